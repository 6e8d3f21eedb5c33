"""sid's one CSV reader (sid.io.csvfile.read_csv): only an empty field is missing; codes
such as NA, NaN, null and None stay codes; numeric columns still parse as numbers; an
unreadable file is one line naming it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sid.errors import InputFileError, LinkageError
from sid.io.csvfile import read_csv

ROOT = Path(__file__).resolve().parents[1]
CODES = ["NA", "NaN", "null", "None", "N/A", "nan", "NULL", "#N/A", "n/a", "-NaN"]


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "in.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_codes_pandas_reads_as_missing_stay_codes(tmp_path):
    body = "".join(f"{c},{i},0{i}\n" for i, c in enumerate(CODES))
    p = _csv(tmp_path, "stratum,count,key\n" + body + ",,\n")
    df = read_csv(p, text=["key"])
    assert df["stratum"].iloc[:-1].tolist() == CODES
    assert df["stratum"].isna().tolist() == [False] * len(CODES) + [True]  # only the empty field
    assert df["count"].dtype == np.float64 and df["count"].iloc[:-1].tolist() == list(range(len(CODES)))
    assert np.isnan(df["count"].iloc[-1])
    assert df["key"].iloc[0] == "00"  # text: zeros kept


def test_numeric_columns_parse_as_numbers_and_text_true_reads_all_as_text(tmp_path):
    p = _csv(tmp_path, "a,b\n1,2.5\n3,\n")
    df = read_csv(p)
    assert df["a"].dtype == np.int64 and df["b"].dtype == np.float64
    t = read_csv(p, text=True)
    assert t["a"].tolist() == ["1", "3"] and t["b"].iloc[0] == "2.5" and t["b"].isna().iloc[1]


def test_blank_missing_false_or_per_column(tmp_path):
    p = _csv(tmp_path, "a,b\nx,\n,y\n")
    assert read_csv(p, blank_missing=False).fillna("?").values.tolist() == [["x", ""], ["", "y"]]
    df = read_csv(p, blank_missing=["a"])
    assert df["a"].isna().tolist() == [False, True] and df["b"].tolist() == ["", "y"]


def test_columns_reads_those_the_file_has(tmp_path):
    p = _csv(tmp_path, "a,b,c\n1,2,3\n")
    assert list(read_csv(p, columns=["c", "a", "zz"]).columns) == ["a", "c"]


@pytest.mark.parametrize("body", [b'a,b\n1,2\n3,4,5,6\n', b'a,b\n"1,2\n', b"", b"a,b\n\xff\xfe,1\n"])
def test_unreadable_file_is_one_line_naming_it(tmp_path, body):
    p = tmp_path / "bad.csv"
    p.write_bytes(body)
    with pytest.raises(InputFileError) as info:
        read_csv(p)
    msg = str(info.value)
    assert "\n" not in msg and str(p) in msg and "not a readable CSV file" in msg and ";" in msg
    assert p.read_bytes() == body


def test_unreadable_wording_is_the_callers(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(LinkageError, match=r"^set: cannot read \(.*\)$"):
        read_csv(p, unreadable=lambda d: LinkageError(f"set: cannot read ({d})"))


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_csv(tmp_path / "nope.csv")


def test_sid_reads_every_csv_through_the_one_reader():
    """No module of sid calls pandas' reader with its default missing codes."""
    calls = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "sid").rglob("*.py"))
             if p.name != "csvfile.py"
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"\bpd\.read_csv\b|\bpandas\.read_csv\b|read_table\(", line)]
    assert calls == []
