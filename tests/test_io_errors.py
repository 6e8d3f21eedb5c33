"""Bad input files: each raises InputFileError with one line naming the file and what to do,
and nothing is written (neither by read_spss nor by ``sid ingest``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sid.cli import main
from sid.errors import InputFileError
from sid.io.spss import read_spss
from sid.io.wave import ingest


@pytest.fixture()
def good(reference_dir: Path) -> bytes:
    return (reference_dir / "spss" / "sample_missing.sav").read_bytes()


def _bad_files(tmp_path: Path, good: bytes) -> dict[str, Path]:
    files = {
        "not_spss": b"mychar,mynum\na,1.1\nb,1.2\n",
        "pdf_named_sav": b"%PDF-1.4\n" + bytes(range(256)) * 4,
        "empty": b"",
        "truncated_header": good[:100],
        "truncated_dictionary": good[:1000],
        "truncated_data": good[:-50],
        "truncated_last_byte": good[:-1],
    }
    out = {}
    for name, data in files.items():
        p = tmp_path / "in" / f"{name}.sav"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
        out[name] = p
    return out


CASES = [
    "not_spss",
    "pdf_named_sav",
    "empty",
    "truncated_header",
    "truncated_dictionary",
    "truncated_data",
    "truncated_last_byte",
]


def _one_line_naming(exc: InputFileError, path: Path) -> None:
    msg = str(exc)
    assert "\n" not in msg
    assert str(path) in msg
    assert ";" in msg  # what is wrong; what to do


@pytest.mark.parametrize("chunksize", [None, 2])
@pytest.mark.parametrize("case", CASES)
def test_bad_file_raises_input_file_error_naming_it(tmp_path, good, case, chunksize):
    path = _bad_files(tmp_path, good)[case]
    with pytest.raises(InputFileError) as info:
        read_spss(path, chunksize=chunksize)
    _one_line_naming(info.value, path)


def test_missing_file_raises_input_file_error(tmp_path):
    path = tmp_path / "nope.sav"
    with pytest.raises(InputFileError, match="not found") as info:
        read_spss(path)
    _one_line_naming(info.value, path)


def test_unknown_encoding_raises_input_file_error(reference_dir):
    path = reference_dir / "spss" / "sample.sav"
    with pytest.raises(InputFileError, match="no-such-charset") as info:
        read_spss(path, encoding="no-such-charset")
    _one_line_naming(info.value, path)


def test_known_encoding_is_used(reference_dir):
    _, meta = read_spss(reference_dir / "spss" / "sample.sav", encoding="cp1252")
    assert meta.encoding == "cp1252"


@pytest.mark.parametrize("case", CASES + ["missing"])
def test_cli_ingest_bad_file_exits_2_and_writes_nothing(tmp_path, good, capsys, case):
    bad = _bad_files(tmp_path, good)
    path = bad.get(case, tmp_path / "in" / "missing.sav")
    sample = tmp_path / "in" / "fine_web.sav"
    sample.write_bytes(good)
    out = tmp_path / "run"
    rc = main(["ingest", f"web={sample}", f"capi={path}", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err[-1].startswith("sid: error: ") and str(path) in err[-1]
    assert not out.exists()


def test_cli_ingest_unknown_encoding_writes_nothing(tmp_path, good, capsys):
    sample = tmp_path / "sid_web.sav"
    sample.write_bytes(good)
    out = tmp_path / "run"
    rc = main(["ingest", str(sample), "--out", str(out), "--encoding", "klingon"])
    assert rc == 2 and "klingon" in capsys.readouterr().err
    assert not out.exists()


def test_ingest_without_files_raises():
    with pytest.raises(InputFileError, match="no input file"):
        ingest([])
