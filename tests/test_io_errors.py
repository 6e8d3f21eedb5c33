"""Bad input files: each raises InputFileError with one line naming the file and what to do,
and nothing is written (neither by read_spss nor by ``sid ingest``)."""

from __future__ import annotations

import struct
from pathlib import Path

import pandas as pd
import pytest

from sid.cli import main
from sid.errors import InputFileError
from sid.io.spss import read_spss, write_spss
from sid.io.wave import ingest


@pytest.fixture()
def good(reference_dir: Path) -> bytes:
    return (reference_dir / "spss" / "sample_missing.sav").read_bytes()


def _unknown_count(data: bytes) -> bytes:
    """``data`` with the header's case count (int32 at byte 80) set to -1, "unknown"."""
    return data[:80] + struct.pack("<i", -1) + data[84:]


def _uncompressed(tmp_path: Path, good: bytes) -> bytes:
    """The cases of ``good`` written as an uncompressed .sav (``good`` is bytecode-compressed)."""
    src, out = tmp_path / "src.sav", tmp_path / "uncompressed.sav"
    src.write_bytes(good)
    write_spss(*read_spss(src), out)  # sid writes .sav uncompressed
    data = out.read_bytes()
    src.unlink()
    out.unlink()
    assert struct.unpack("<i", data[72:76]) == (0,)  # the header's compression: none
    return data


def _bad_files(tmp_path: Path, good: bytes) -> dict[str, Path]:
    plain = _uncompressed(tmp_path, good)
    files = {
        "not_spss": b"mychar,mynum\na,1.1\nb,1.2\n",
        "pdf_named_sav": b"%PDF-1.4\n" + bytes(range(256)) * 4,
        "empty": b"",
        "truncated_header": good[:100],
        "truncated_dictionary": good[:1000],
        "truncated_data": good[:-50],
        "truncated_last_byte": good[:-1],
        # header case count -1 (allowed: "unknown"), data cut in the middle of a case:
        # readstat reads the whole cases before the cut and says nothing
        "unknown_count_truncated": _unknown_count(good)[:-30],
        "unknown_count_truncated_block": _unknown_count(good)[:-100],
        "unknown_count_uncompressed_truncated": _unknown_count(plain)[:-30],
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
    "unknown_count_truncated",
    "unknown_count_truncated_block",
    "unknown_count_uncompressed_truncated",
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


@pytest.mark.parametrize("chunksize", [None, 2])
@pytest.mark.parametrize("kind", ["bytecode", "zsav", "uncompressed"])
def test_complete_file_with_unknown_case_count_reads_whole(tmp_path, reference_dir, good, kind,
                                                          chunksize):
    source = {"bytecode": good, "zsav": (reference_dir / "spss" / "sample.zsav").read_bytes(),
              "uncompressed": _uncompressed(tmp_path, good)}[kind]
    whole, unknown = tmp_path / "whole.sav", tmp_path / "unknown.sav"
    whole.write_bytes(source)
    unknown.write_bytes(_unknown_count(source))
    expected, _ = read_spss(whole, chunksize=chunksize)
    df, meta = read_spss(unknown, chunksize=chunksize)
    assert len(df) == len(expected) > 0
    pd.testing.assert_frame_equal(df, expected)
    assert meta.sources[0]["rows"] == len(expected)


def test_unknown_case_count_truncation_names_the_partial_case(tmp_path, good):
    path = _bad_files(tmp_path, good)["unknown_count_truncated"]
    before = path.read_bytes()
    with pytest.raises(InputFileError, match=r"case count unknown \(-1\).*partial case") as info:
        read_spss(path)
    _one_line_naming(info.value, path)
    assert path.read_bytes() == before
