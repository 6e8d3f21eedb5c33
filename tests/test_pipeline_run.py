"""`sid run`: every stage on a demo wave, twice, with the same outputs.

The project (sid.yaml and its spec folders) is copied into a temporary project (the
indicator base lives in the project's data/ folder, and a project is any folder of that
shape), the demo wave is made small, and the whole pipeline runs through the CLI as a user
runs it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from sid.cli import main
from sid.demo import Demo, make_demo
from tests.projects import PROJECT_FOLDERS, copy_project

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "clean", "fieldwork", "weight", "score", "tables", "link", "smallarea", "report")
# Files that carry run ids, run times or a database's own bookkeeping; the rest must be
# byte-identical between two runs of the same inputs.
VARYING = {"manifest.json", "load.json"}
VARYING_SUFFIXES = {".html", ".duckdb", ".wal"}
# Files compared by content: the workbook's zip entries and the SPSS header carry their
# write time, diagnostics.json its stage's run times; so do the analysts' .dta and codebook workbook.
BY_CONTENT = {"tables.xlsx", "sid2022.sav", "diagnostics.json", "sid2022.dta", "codebook_sid2022.xlsx"}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path, Path, str]:
    base = tmp_path_factory.mktemp("pipeline")
    project = copy_project(base / "project", PROJECT_FOLDERS)
    data = base / "data"
    make_demo(data, seed=2022, scale=0.3)
    assert main(["run", "--project", str(project), "--data", str(data), "--out", str(base / "out1")]) == 0
    assert main(["run", "--project", str(project), "--data", str(data), "--out", str(base / "out2")]) == 0
    # a run loads into bases of its own (RUN/link/, RUN/smallarea/): the project's shared
    # base (the linkage spec's base:) is sid publish's alone, so two runs leave it unmade
    assert not (project / "data" / "vlim.duckdb").exists()
    return project, base / "out1", base / "out2", str(data)


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_sid_run_records_every_stage_with_its_outputs(two_runs):
    _, out1, _, _ = two_runs
    manifest = json.loads((out1 / "manifest.json").read_text())
    assert set(manifest["stages"]) == set(STAGES)
    for stage in STAGES:
        entry = manifest["stages"][stage]
        assert entry["outputs"], stage
        for out in entry["outputs"]:
            path = out1 / out["path"]
            assert path.is_file(), (stage, out["path"])
            assert hashlib.sha256(path.read_bytes()).hexdigest() == out["sha256"]
    for wanted in ("raw/data.parquet", "clean/log.csv", "fieldwork/rates.csv",
                   "weight/weights.parquet", "weight/replicates.parquet", "score/indices.parquet",
                   "tables/tables.csv", "tables/tables.xlsx", "report/index.html",
                   "report/sid2022.sav"):
        assert (out1 / wanted).is_file(), wanted


def test_sid_run_twice_gives_identical_outputs_apart_from_run_ids_and_times(two_runs):
    _, out1, out2, _ = two_runs
    a, b = _files(out1), _files(out2)
    assert a.keys() == b.keys()
    differ = [
        f for f in a
        if a[f] != b[f] and Path(f).name not in VARYING | BY_CONTENT
        and Path(f).suffix not in VARYING_SUFFIXES
    ]
    assert differ == []
    d1, d2 = (json.loads((o / "weight" / "diagnostics.json").read_text()) for o in (out1, out2))
    d1.pop("timings_seconds"), d2.pop("timings_seconds")
    assert d1 == d2
    # the small-area fits are the same; only the run's own base, id and time differ
    s1, s2 = (json.loads((o / "smallarea" / "diagnostics.json").read_text()) for o in (out1, out2))
    for key in ("db", "run_id", "run_at"):
        assert s1.pop(key) != s2.pop(key)
    assert s1 == s2
    s1, m1 = pyreadstat.read_sav(out1 / "report" / "sid2022.sav", user_missing=True)
    s2, m2 = pyreadstat.read_sav(out2 / "report" / "sid2022.sav", user_missing=True)
    pd.testing.assert_frame_equal(s1, s2)
    assert m1.column_labels == m2.column_labels
    assert m1.missing_ranges == m2.missing_ranges
    t1, n1 = pyreadstat.read_dta(out1 / "report" / "sid2022.dta", user_missing=True)
    t2, n2 = pyreadstat.read_dta(out2 / "report" / "sid2022.dta", user_missing=True)
    pd.testing.assert_frame_equal(t1, t2)
    assert n1.column_labels == n2.column_labels and n1.variable_value_labels == n2.variable_value_labels
    for book in (Path("tables") / "tables.xlsx", Path("report") / "codebook_sid2022.xlsx"):
        x1 = pd.read_excel(out1 / book, sheet_name=None)
        x2 = pd.read_excel(out2 / book, sheet_name=None)
        assert x1.keys() == x2.keys()
        for sheet in x1:
            pd.testing.assert_frame_equal(x1[sheet], x2[sheet])


def test_sid_run_links_the_wave_into_its_own_base_once(two_runs):
    import duckdb

    project, out1, out2, _ = two_runs
    # the shared base holds no run's survey or small-area wave (nor exists) until sid publish
    shared = project / "data" / "vlim.duckdb"
    if shared.exists():
        con = duckdb.connect(str(shared), read_only=True)
        try:
            assert not {"sid2022", "sid2022-smallarea"} & {w for (w,) in con.execute("select wave from loads").fetchall()}
        finally:
            con.close()
    for stage in ("link", "smallarea"):
        own = out2 / stage / "base.duckdb"
        con = duckdb.connect(str(own), read_only=True)
        try:
            loads = con.execute("select wave, run_id, run_at from loads").fetchall()
        finally:
            con.close()
        manifest = json.loads((out2 / "manifest.json").read_text(encoding="utf-8"))
        assert loads and all(r == manifest["run_id"] and t is not None for _, r, t in loads), stage
    con = duckdb.connect(str(out2 / "link" / "base.duckdb"), read_only=True)
    try:
        waves = dict(con.execute(
            "select wave, count(*) from indicator_values group by wave order by wave"
        ).fetchall())
    finally:
        con.close()
    # the run's base holds as many rows of the wave as the run computed, and the register set once
    one_run = len(pd.read_csv(out2 / "link" / "survey_indicators.csv"))
    assert one_run == len(pd.read_csv(out1 / "link" / "survey_indicators.csv")) > 0
    assert waves["sid2022"] == one_run
    admin = pd.read_csv(Path(two_runs[3]) / "vlim-admin-demo" / "values.csv")
    assert waves["vlim-admin-demo"] == len(admin)


def test_publish_takes_the_runs_survey_and_smallarea_waves_and_a_trial_run_leaves_them(two_runs, capsys):
    """sid publish out2: every wave of the run's own bases (link: sid2022 and the register
    set; smallarea: sid2022-smallarea) into the spec's shared base in one go, saying what
    each replaces; the older out1 is refused with the base unchanged; a trial sid run
    --out out10 afterwards leaves the shared base byte for byte."""
    import duckdb

    project, out1, out2, data = two_runs
    shared = project / "data" / "vlim.duckdb"
    run_id = json.loads((out2 / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    capsys.readouterr()
    try:
        assert main(["publish", str(out2), "--project", str(project)]) == 0
        err = capsys.readouterr().err
        for wave in ("sid2022", "vlim-admin-demo", "sid2022-smallarea"):
            assert f"sid publish: {wave} -> {shared}: new in the base, run {run_id}" in err
        assert "  sid_liim_idx_language: - -> " in err
        con = duckdb.connect(str(shared), read_only=True)
        try:
            got = dict(con.execute("select wave, run_id from loads").fetchall())
            rows = con.execute("select count(*) from indicator_values where wave = 'sid2022-smallarea'").fetchone()[0]
        finally:
            con.close()
        assert got == {"sid2022": run_id, "vlim-admin-demo": run_id, "sid2022-smallarea": run_id}
        est = pd.read_csv(out2 / "smallarea" / "estimates.csv")
        assert rows == len(est) + est["indicator"].nunique()  # + each indicator's regional average
        before = shared.read_bytes()
        assert main(["publish", str(out1), "--project", str(project)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("sid: error: ") and "is older than run " + run_id in err
        assert shared.read_bytes() == before
        out10 = out2.parent / "out10"
        assert main(["run", "--project", str(project), "--data", data, "--out", str(out10)]) == 0
        assert shared.read_bytes() == before
        assert (out10 / "smallarea" / "base.duckdb").is_file() and (out10 / "link" / "base.duckdb").is_file()
    finally:
        for p in (shared, shared.with_name(shared.name + ".wal")):
            p.unlink(missing_ok=True)  # the module's other tests expect no shared base


def test_sid_run_with_a_missing_data_folder_is_one_line_and_writes_nothing(tmp_path, capsys):
    code = main(["run", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert err[-1].startswith("sid: error:") and "nowhere" in err[-1]
    assert not (tmp_path / "out").exists()


def _readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.split("```", 1)[0] for block in text.split("```python\n")[1:]]


def test_readme_python_examples_run_on_the_demo_run_folder(two_runs, monkeypatch, tmp_path):
    _, out1, _, data = two_runs
    blocks = _readme_python_blocks()
    assert len(blocks) >= 2
    # the README's paths as a user has them, from the repository root: out/, data/demo/
    # and tests/reference/ in the current folder
    work = tmp_path / "main"
    work.mkdir()
    (work / "out").symlink_to(out1)
    (work / "data").mkdir()
    (work / "data" / "demo").symlink_to(data)
    (work / "tests").mkdir()
    (work / "tests" / "reference").symlink_to(ROOT / "tests" / "reference")
    monkeypatch.chdir(work)
    results = []
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)  # the README's own example code
        results.append(namespace)
    # the examples' estimates are real: the demo's Dutch-at-home share by origin lies in
    # (0, 1) with a positive SE, and R's apistrat means by school type come out
    shares = results[0]["wave"].proportion("dutch_home", by="origin")
    assert ((shares["estimate"] > 0) & (shares["estimate"] < 1)).all() and (shares["se"] > 0).all()
    by_type = results[1]["d"].mean("api00", by="stype")
    assert by_type["estimate"].round(2).tolist() == [674.43, 625.82, 636.6]


def test_sid_run_defaults_come_from_the_wave_and_the_demo_is_made_when_absent(tmp_path, monkeypatch, capsys):
    """`cd project && sid run` as the README has it: the wave's data_folder (made by its demo
    generator: absent), its run_folder; small: the demo's scale is the wave's default (1), so
    only the first stages run here (monkeypatched out: the rest is the fixture's run)."""
    from sid.pipeline import run as pipeline

    project = copy_project(tmp_path / "project")
    made = []
    monkeypatch.setattr(pipeline, "STAGES", pipeline.STAGES[:1])  # ingest: reads the wave's files
    monkeypatch.setattr("sid.demo.DEMOS", {"sid2022": Demo(lambda out, seed: made.append(out) or make_demo(
        out, seed=seed, scale=0.1), 2022, "data/demo")})
    monkeypatch.chdir(project)
    assert main(["run"]) == 0
    assert made == [project / "data" / "demo"]
    manifest = json.loads((project / "out" / "manifest.json").read_text())
    assert manifest["wave"] == "sid2022"
    assert [Path(i["path"]).name for i in manifest["stages"]["ingest"]["inputs"]] == [
        "sid2022_capi.sav", "sid2022_web.sav"]  # the files sid.yaml lists, in its order
    # a second run uses the data folder that is there now
    assert main(["run", "--out", str(tmp_path / "out2")]) == 0 and len(made) == 1
    # a wave the project does not have: one line, nothing written
    capsys.readouterr()
    assert main(["run", "--wave", "sid2099", "--out", str(tmp_path / "out3")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no wave 'sid2099'" in err[-1] and not (tmp_path / "out3").exists()


def test_sid_run_skips_the_stages_whose_spec_the_wave_does_not_name(tmp_path, capsys):
    from sid.pipeline.run import STAGES, summary
    from sid.project import load_project
    from tests.projects import sid_wave, write_project_file

    project = copy_project(tmp_path / "project")
    write_project_file(project, {"sid2022": sid_wave(weighting=None, linkage=None, tables=None)})
    w = load_project(project).wave()
    skipped = {name: why(w) for name, _, why in STAGES if why(w)}
    assert set(skipped) == {"fieldwork", "weight", "tables", "link", "smallarea"}
    assert "names no weighting spec" in skipped["weight"]
    from sid.pipeline.run import StageTiming

    text = summary([StageTiming("weight", 0.0, skipped=skipped["weight"])], "out")
    assert "weight     skipped: the wave names no weighting spec" in text
