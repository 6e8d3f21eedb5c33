"""Ingestion of mode files into the raw wave, the raw wave on disk, and ``sid ingest``.

The files are SPSS-written (reference/spss); row contents are checked against the CSVs
exported with them, file hashes against hashlib over the files' bytes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sid.cli import main
from sid.errors import DataError, InputFileError, RunFolderError
from sid.io.spss import SpssMeta, VariableMeta, read_spss, write_spss
from sid.io.wave import ingest, mode_from_path, read_wave, write_raw_wave


@pytest.fixture()
def modes(reference_dir: Path, tmp_path: Path) -> dict[str, Path]:
    """sample.sav as the web file, sample.zsav (same data, compressed) as the CAPI file."""
    src = reference_dir / "spss"
    web = tmp_path / "in" / "sid2022_web.sav"
    capi = tmp_path / "in" / "sid2022_capi.zsav"
    web.parent.mkdir()
    shutil.copy(src / "sample.sav", web)
    shutil.copy(src / "sample.zsav", capi)
    return {"web": web, "capi": capi}


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_mode_from_file_name_is_last_underscore_part():
    assert mode_from_path("data/sid2022_web.sav") == "web"
    assert mode_from_path("sid_2022_capi.zsav") == "capi"
    assert mode_from_path("web.sav") == "web"


def test_ingest_list_takes_modes_from_names_and_stacks_rows_as_csv(modes, reference_dir):
    df, meta = ingest([modes["web"], modes["capi"]])
    csv = pd.read_csv(reference_dir / "spss" / "sample.csv", encoding="utf-8-sig")
    assert len(df) == 2 * len(csv)
    assert df["mode"].tolist() == ["web"] * 5 + ["capi"] * 5
    assert df["mychar"].tolist() == csv["mychar"].tolist() * 2
    assert df["mynum"].tolist() == pytest.approx(csv["mynum"].tolist() * 2)
    assert list(df.columns)[-1] == "mode" and meta.variables["mode"].type == "string"
    assert [(s["mode"], s["rows"], s["sha256"]) for s in meta.sources] == [
        ("web", 5, _sha(modes["web"])),
        ("capi", 5, _sha(modes["capi"])),
    ]
    assert meta.variables["mylabl"].value_labels == {1.0: "Male", 2.0: "Female"}


def test_ingest_mapping_names_modes(modes):
    df, meta = ingest({"cawi": modes["web"], "capi": modes["capi"]}, mode_variable="wijze")
    assert set(df["wijze"]) == {"cawi", "capi"} and "wijze" in meta


def test_ingest_disagreeing_missing_codes_names_first_variable(modes, reference_dir):
    other = modes["web"].parent / "sid2022_capi.sav"
    shutil.copy(reference_dir / "spss" / "sample_missing.sav", other)
    with pytest.raises(DataError) as info:
        ingest([modes["web"], other])
    msg = str(info.value)
    assert msg.startswith("variable mynum differs") and "missing values" in msg
    assert str(modes["web"]) in msg and str(other) in msg


def test_ingest_disagreeing_variables_labels_and_types(modes, tmp_path):
    df, meta = read_spss(modes["web"])
    fewer = tmp_path / "x_capi.sav"
    write_spss(df.drop(columns="myord"), meta.subset([c for c in df if c != "myord"]), fewer)
    with pytest.raises(DataError, match=r"^variable myord is in .*sid2022_web.sav but not in"):
        ingest([modes["web"], fewer])

    relabelled = tmp_path / "y_capi.sav"
    meta2 = meta.subset(list(df.columns))
    meta2.variables["mylabl"].value_labels = {1.0: "Man", 2.0: "Vrouw"}
    write_spss(df, meta2, relabelled)
    with pytest.raises(DataError, match="variable mylabl differs.*value labels"):
        ingest([modes["web"], relabelled])

    retyped = tmp_path / "z_capi.sav"
    df3 = df.assign(mynum=df["mynum"].astype(str))
    meta3 = meta.subset(list(df.columns))
    meta3.variables["mynum"].type = "string"
    meta3.variables["mynum"].format = None
    write_spss(df3, meta3, retyped)
    with pytest.raises(DataError, match="variable mynum differs.*type 'numeric' vs 'string'"):
        ingest([modes["web"], retyped])


def test_ingest_duplicate_mode_and_existing_mode_variable(modes):
    with pytest.raises(InputFileError, match="both give mode 'web'"):
        ingest([modes["web"], modes["web"]])
    with pytest.raises(DataError, match="already has a variable 'mychar'"):
        ingest([modes["web"]], mode_variable="mychar")


def test_raw_wave_round_trip_and_read_only(modes, tmp_path):
    df, meta = ingest(modes)
    raw = write_raw_wave(df, meta, tmp_path / "run")
    assert raw == tmp_path / "run" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == ["data.parquet", "meta.json"]
    assert not (raw / "data.parquet").stat().st_mode & 0o222  # read-only
    df2, meta2 = read_wave(raw)
    pd.testing.assert_frame_equal(df2, df)
    assert meta2 == meta
    on_disk = json.loads((raw / "meta.json").read_text())
    assert [s["sha256"] for s in on_disk["sources"]] == [_sha(modes["web"]), _sha(modes["capi"])]
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["raw"]  # no temporaries left


def test_raw_wave_is_not_replaced_by_other_files(modes, reference_dir, tmp_path):
    df, meta = ingest(modes)
    write_raw_wave(df, meta, tmp_path / "run")
    write_raw_wave(df, meta, tmp_path / "run")  # the same sources: a re-run, allowed
    df_o, meta_o = ingest({"web": reference_dir / "spss" / "sample_missing.sav"})
    with pytest.raises(RunFolderError, match="already holds a raw wave"):
        write_raw_wave(df_o, meta_o, tmp_path / "run")
    assert read_wave(tmp_path / "run" / "raw")[1] == meta


def test_write_raw_wave_rejects_data_meta_mismatch(modes, tmp_path):
    df, meta = ingest(modes)
    with pytest.raises(DataError, match="no metadata for extra"):
        write_raw_wave(df.assign(extra=1), meta, tmp_path / "run")
    assert not (tmp_path / "run" / "raw").exists()


def test_read_wave_missing_folder(tmp_path):
    with pytest.raises(RunFolderError, match="data.parquet not found"):
        read_wave(tmp_path / "clean")


def test_cli_ingest_writes_raw_and_manifest(modes, tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        ["ingest", str(modes["web"]), str(modes["capi"]), "--out", str(out), "--chunksize", "2"]
    )
    assert rc == 0
    df, meta = read_wave(out / "raw")
    assert df["mode"].value_counts().to_dict() == {"web": 5, "capi": 5}
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["stages"]["ingest"]
    assert {i["sha256"] for i in entry["inputs"]} == {_sha(modes["web"]), _sha(modes["capi"])}
    assert "10 rows" in capsys.readouterr().err


def test_cli_ingest_rejects_mixed_named_and_plain_files(modes, tmp_path, capsys):
    rc = main(["ingest", f"web={modes['web']}", str(modes["capi"]), "--out", str(tmp_path / "r")])
    assert rc == 2 and "MODE=FILE" in capsys.readouterr().err


def test_ingest_accepts_different_string_widths_and_keeps_the_widest(tmp_path):
    meta = SpssMeta(
        variables={
            "town": VariableMeta(name="town", label="Gemeente", type="string"),
            "q1": VariableMeta(name="q1", label="Vraag", value_labels={1: "Ja"}),
        }
    )
    short = pd.DataFrame({"town": pd.Series(["Gent"], dtype="str"), "q1": [1.0]})
    long = pd.DataFrame({"town": pd.Series(["Sint-Jans-Molenbeek"], dtype="str"), "q1": [2.0]})
    write_spss(short, meta, tmp_path / "w_web.sav")
    write_spss(long, meta, tmp_path / "w_capi.sav")
    df, merged = ingest([tmp_path / "w_web.sav", tmp_path / "w_capi.sav"])
    assert df["town"].tolist() == ["Gent", "Sint-Jans-Molenbeek"]
    assert merged["town"].format == "A19" and merged["mode"].format == "A4"


def test_raw_wave_written_back_to_spss_keeps_mode_and_labels(modes, tmp_path):
    df, meta = read_wave(write_raw_wave(*ingest(modes), tmp_path / "run"))
    write_spss(df, meta, tmp_path / "wave.zsav")
    back, meta2 = read_spss(tmp_path / "wave.zsav")
    assert back["mode"].tolist() == ["web"] * 5 + ["capi"] * 5
    assert meta2["mode"].label == meta["mode"].label
    assert meta2["myord"].value_labels == {1.0: "low", 2.0: "medium", 3.0: "high"}
    assert back["mydate"].tolist()[:4] == df["mydate"].tolist()[:4]
