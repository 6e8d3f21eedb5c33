"""The cleaning stage on a run folder (sid.clean.run_clean, ``sid clean``): files written,
manifest, and bad input (one clear line, nothing written)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_clean_rules import EXPECTED_LOG, REGISTER, SPEC, make_gross, make_raw

from sid.cli import main
from sid.errors import DataError
from sid.io.wave import read_wave, write_raw_wave
from tests.projects import small_wave, write_project_file

GROSS = "bruto_steekproef.csv"  # not SID's name: the project file names it


@pytest.fixture
def project(tmp_path):
    """A project folder with the hand-made spec and its sid.yaml, a data folder, a run
    folder with raw/."""
    proj, data, out = tmp_path / "proj", tmp_path / "data", tmp_path / "run"
    (proj / "questionnaires").mkdir(parents=True)
    (proj / "questionnaires" / "t.yaml").write_text(SPEC.replace("SPEEDER_DROP", "false"),
                                                    encoding="utf-8")
    write_project_file(proj, {"t": small_wave("questionnaires/t.yaml", key="pk", group="q_work",
                                              strata=["strat"], mode="mode", gross_sample=GROSS)})
    data.mkdir()
    raw, meta = make_raw()
    write_raw_wave(raw, meta, out)
    return proj, data, out


def _write_gross(data, register=REGISTER, extra=None, name=GROSS):
    g = make_gross(register)
    if extra is not None:
        g = pd.concat([g, extra], ignore_index=True)
    g.to_csv(data / name, index=False)


def test_sid_clean_writes_the_clean_folder_and_manifest(project, capsys):
    proj, data, out = project
    _write_gross(data)
    assert main(["clean", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 0
    assert "5 changes (duplicate 2, invalid_code 2, routing 1)" in capsys.readouterr().err
    clean, meta = read_wave(out / "clean")
    assert clean["pk"].tolist() == ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    assert meta["q_job"].value_labels[-4.0] == "Ongeldige code"
    log = pd.read_csv(out / "clean" / "log.csv", dtype={"key": str})
    assert [tuple(r)[:4] for r in log.itertuples(index=False)] == [e[:4] for e in EXPECTED_LOG]
    flags = pd.read_parquet(out / "clean" / "flags.parquet")
    assert flags["status"].tolist()[4] == "break-off"
    entry = json.loads((out / "manifest.json").read_text())["stages"]["clean"]
    assert entry["params"]["data_dir"] == str(data) and entry["params"]["wave"] == "t"
    assert entry["params"]["gross_sample"] == str(data / GROSS)
    assert entry["specs"][0]["path"].endswith("t.yaml")
    assert json.loads((out / "manifest.json").read_text())["wave"] == "t"


def test_respondent_not_in_gross_sample_writes_nothing(project, capsys):
    proj, data, out = project
    _write_gross(data, {k: v for k, v in REGISTER.items() if k not in ("e", "h")})
    assert main(["clean", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sid: error: ")
    assert "2 respondent key(s) have no record in the gross sample (first: e, h)" in err[0]
    assert not (out / "clean").exists()
    assert not (out / "manifest.json").exists()  # write_raw_wave alone records no stage


def test_register_key_twice_writes_nothing(project, capsys):
    proj, data, out = project
    _write_gross(data, extra=make_gross({"a": 1981}))
    assert main(["clean", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "pk value(s) occur more than once" in err and "first: a" in err
    assert not (out / "clean").exists()


def test_numeric_looking_keys_keep_their_leading_zeros(project):
    from sid.clean.register import read_gross_sample
    from sid.spec.questionnaire_parse import load_questionnaire

    proj, data, _ = project
    pd.DataFrame({"pk": ["0012", "12"], "by": [1980, 1990]}).to_csv(data / "g.csv", index=False)
    q = load_questionnaire(proj / "questionnaires" / "t.yaml")
    g = read_gross_sample(data / "g.csv", q)
    assert g["pk"].tolist() == ["0012", "12"] and g["by"].tolist() == [1980.0, 1990.0]
    pd.DataFrame({"pk": ["1"], "by": ["nineteen"]}).to_csv(data / "bad.csv", index=False)
    with pytest.raises(DataError, match="register variable by holds non-numbers"):
        read_gross_sample(data / "bad.csv", q)


def test_missing_gross_sample_is_one_line(project, capsys):
    proj, data, out = project
    assert main(["clean", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # the file the project names, and where it names it (not a blind "gross_sample.csv")
    assert len(err) == 1 and f"{data / GROSS}: gross sample not found" in err[0]
    assert "data.gross_sample of wave t in" in err[0] and "sid.yaml" in err[0]
    assert not (out / "clean").exists()


def test_two_waves_of_one_project_clean_with_their_own_spec_and_gross_sample(project, capsys):
    proj, data, out = project
    spec2 = SPEC.replace("SPEEDER_DROP", "false").replace("wave: t", "wave: t2").replace(
        '"Geboortejaar (register)"', '"Geboortejaar (register 2)"')
    (proj / "questionnaires" / "t2.yaml").write_text(spec2, encoding="utf-8")
    write_project_file(proj, {
        "t": small_wave("questionnaires/t.yaml", key="pk", group="q_work", strata=["strat"], mode="mode",
                        gross_sample=GROSS),
        "t2": small_wave("questionnaires/t2.yaml", key="pk", group="q_work", strata=["strat"], mode="mode",
                         gross_sample="other.csv")})
    _write_gross(data, name="other.csv")
    # t is the default wave; the run folder records none yet: --wave picks t2, and its files
    assert main(["clean", "--out", str(out), "--project", str(proj), "--data", str(data), "--wave", "t2"]) == 0
    _, meta = read_wave(out / "clean")
    assert meta["by"].label == "Geboortejaar (register 2)"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["wave"] == "t2" and manifest["stages"]["clean"]["specs"][0]["path"].endswith("t2.yaml")
    # run alone again, the stage takes the wave the run folder records: t2, whose gross
    # sample other.csv exists (t's bruto_steekproef.csv does not)
    assert main(["clean", "--out", str(out), "--project", str(proj), "--data", str(data)]) == 0
    assert main(["clean", "--out", str(out), "--project", str(proj), "--data", str(data), "--wave", "t"]) == 2
    assert f"{data / GROSS}: gross sample not found" in capsys.readouterr().err
    assert main(["clean", "--out", str(out), "--project", str(proj), "--wave", "t3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no wave 't3'" in err[0] and "t, t2" in err[0]
