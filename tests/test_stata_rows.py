"""sid.io.stata_rows: the .dta rows written by numpy are byte for byte pyreadstat's rows.

readstat writes the creation time (``dd Mon yyyy hh:mm``, the clock, not the data) in the
header's ``<timestamp>``: the files are compared with those 17 bytes blanked."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import sid.report.stata_file as stata_file
from sid.io import stata_rows
from sid.io.spss_meta import SpssMeta, VariableMeta
from sid.report.stata_file import write_stata
from tests.fast_writers import write_both


def _masked(b: bytes) -> bytes:
    parts = stata_rows._Sections(b)
    assert parts.ok and parts.timestamp.stop - parts.timestamp.start == 17
    return b[:parts.timestamp.start] + b"\0" * 17 + b[parts.timestamp.stop:]


def _frame(n: int = 700) -> tuple[pd.DataFrame, SpssMeta]:
    rng = np.random.default_rng(11)
    x = rng.normal(size=n) * 1e3
    x[5::7] = np.nan
    x[3] = -0.0
    code = rng.integers(1, 5, n).astype(float)
    code[:9] = 4.0  # missing codes 4 (.a) and 9 (.b) first: the first value comes later
    code[50::13] = 9.0
    code[60::17] = np.nan
    city = ["Gent", "Brussel", "", "Liège", "Sint-Niklaas", "Zoë — 東京"] * (n // 6) + ["Ieper"] * (n % 6)
    df = pd.DataFrame({
        "key": [f"p{i:05d}" for i in range(n)],
        "x": x,
        "code": code,
        "count": rng.integers(-3, 300, n),  # int64: pyreadstat writes doubles
        "flag": rng.random(n) < 0.3,  # sid writes booleans as 0/1 doubles
        "city": pd.array(city, dtype="string"),
        "none": [""] * n,  # an all-empty text: str1 of NULs
        "when": pd.to_datetime("2022-03-01") + pd.to_timedelta(rng.integers(0, 10**9, n), unit="ms"),
        "stamp": (pd.to_datetime("1955-06-01 12:00:00.123456")
                  + pd.to_timedelta(rng.integers(-10**15, 10**15, n), unit="us")).astype("datetime64[us]"),
        "day": pd.array([dt.date(2022, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 400, n)],
                        dtype=object),
        "allmiss": np.full(n, np.nan),
    })
    df.loc[3, "when"] = pd.NaT
    df.loc[0, "stamp"] = pd.NaT
    df.loc[8, "day"] = None
    meta = SpssMeta(variables={
        "key": VariableMeta(name="key", label="Sleutel", type="string"),
        "x": VariableMeta(name="x", label="Een getal", measure="scale"),
        "code": VariableMeta(name="code", label="Code", value_labels={1.0: "een", 2.0: "twee", 4.0: "weet niet"},
                             missing_values=[4.0, 9.0]),
        "city": VariableMeta(name="city", label="Gemeente", type="string"),
    }, file_label="test")
    return df, meta


def _write_both(tmp_path, df, meta, monkeypatch) -> tuple[bytes, bytes, list[bool]]:
    """The file written by write_stata as it is, and with pyreadstat alone."""
    return write_both(stata_file, "write_dta_rows", write_stata, df, meta, tmp_path / "fast.dta", tmp_path / "slow.dta",
                      monkeypatch)


def test_numpy_rows_equal_pyreadstat_rows_byte_for_byte(tmp_path, monkeypatch):
    df, meta = _frame()
    monkeypatch.setattr(stata_rows, "BLOCK_ROWS", 64)  # several blocks, the last one short
    fast, slow, taken = _write_both(tmp_path, df, meta, monkeypatch)
    assert taken == [True]
    assert len(fast) == len(slow)
    assert _masked(fast) == _masked(slow)


def test_the_file_reads_back_as_the_frame(tmp_path, monkeypatch):
    df, meta = _frame()
    monkeypatch.setattr(stata_rows, "BLOCK_ROWS", 64)
    info = write_stata(df, meta, tmp_path / "w.dta")
    assert info.missing_letters == {4.0: "a", 9.0: "b"}
    back, m = pyreadstat.read_dta(str(tmp_path / "w.dta"), user_missing=True)
    assert len(back) == len(df) and list(back.columns) == list(df.columns)
    assert m.column_names_to_labels["code"] == "Code"
    assert m.variable_value_labels["code"] == {1: "een", 2: "twee", "a": "weet niet"}
    assert back["key"].tolist() == df["key"].tolist()
    assert back["city"].tolist() == list(df["city"])
    assert back["none"].tolist() == [""] * len(df)
    np.testing.assert_array_equal(back["x"].to_numpy(float), df["x"].to_numpy())
    assert np.signbit(back["x"].iloc[3])  # -0.0 kept
    want = df["code"].astype(object).where(df["code"].ne(4.0), "a").where(df["code"].ne(9.0), "b")
    got = back["code"]
    assert [None if pd.isna(v) else v for v in got] == [None if pd.isna(v) else v for v in want]
    np.testing.assert_array_equal(back["count"].to_numpy(float), df["count"].to_numpy(float))
    np.testing.assert_array_equal(back["flag"].to_numpy(float), df["flag"].to_numpy(float))
    assert back["allmiss"].isna().all()
    # date-times in milliseconds (Stata %tc): equal to the millisecond
    for c in ("when", "stamp"):
        got_t = pd.to_datetime(back[c]).astype("datetime64[ms]")
        want_t = df[c].astype("datetime64[ms]")
        assert got_t.isna().tolist() == want_t.isna().tolist()
        assert (got_t[want_t.notna()] == want_t[want_t.notna()]).all()
    got_d = pd.to_datetime(back["day"]).dt.date
    assert [None if pd.isna(v) else v for v in got_d] == [None if v is None else v for v in df["day"]]


@pytest.mark.parametrize("column", [
    pd.array([1, None, 3] * 30, dtype="Int64"),  # nullable: doubles, NA missing
    pd.array([1, None, -3] * 30, dtype="Int32"),  # pyreadstat: int32 (Stata long), NA missing
    np.array([1, 2, -3] * 30, dtype=np.int16),
    np.array([2147483620, 1, -2147483647] * 30, dtype=np.int32),  # the longs readstat takes
    np.array([1, 0, 200] * 30, dtype=np.uint8),
    np.array([True, False, True] * 30),  # long 0/1
    np.array([8.988465674311579e307, np.nan, -8.988465674311579e307] * 30),  # the largest doubles readstat takes
    np.array([0.25, np.nan, 3.0] * 30, dtype=np.float32),
    pd.array(["ä", "", "a" * 2044] * 30, dtype="string"),  # the widest string that is no strL
])
def test_column_kinds_written_without_write_stata(tmp_path, monkeypatch, column):
    monkeypatch.setattr(stata_rows, "BLOCK_ROWS", 16)
    df = pd.DataFrame({"v": column, "w": np.arange(90.0)})

    def write(frame, path):
        pyreadstat.write_dta(frame, str(path), column_labels={"v": "V"})
    assert stata_rows.write_dta_rows(df, tmp_path / "fast.dta", write)
    write(df, tmp_path / "slow.dta")
    assert _masked((tmp_path / "fast.dta").read_bytes()) == _masked((tmp_path / "slow.dta").read_bytes())


def test_a_text_needing_a_strl_falls_back_to_pyreadstat(tmp_path, monkeypatch):
    df, meta = _frame(40)
    df["key"] = df["key"].astype(object)
    df.loc[10, "key"] = "lang " * 500  # 2,500 bytes: a strL
    fast, slow, taken = _write_both(tmp_path, df, meta, monkeypatch)
    assert taken == [False]
    assert _masked(fast) == _masked(slow)
    parts = stata_rows._Sections(fast)
    assert stata_rows.TYPE_STRL in parts.types
    back, _ = pyreadstat.read_dta(str(tmp_path / "fast.dta"))
    assert back["key"].iloc[10] == "lang " * 500 and back["key"].iloc[11] == "p00011"


@pytest.mark.parametrize("change", ["nul", "category", "tz"])
def test_columns_it_does_not_encode_fall_back_to_pyreadstat(tmp_path, monkeypatch, change):
    df, meta = _frame(40)
    if change == "nul":
        df["key"] = df["key"].astype(object)
        df.loc[10, "key"] = "a\x00b"
    elif change == "category":
        df["grp"] = pd.Categorical([1.0, 2.0] * 20)
    else:
        df["tz"] = pd.date_range("2022-01-01", periods=40, freq="h", tz="Europe/Brussels")
    fast, slow, taken = _write_both(tmp_path, df, meta, monkeypatch)
    assert taken == [False]
    assert _masked(fast) == _masked(slow)
    assert sorted(tmp_path.iterdir()) == [tmp_path / "fast.dta", tmp_path / "slow.dta"]  # no temporary left


def test_an_encoding_that_differs_from_pyreadstats_is_not_used(tmp_path, monkeypatch):
    # a wrong missing value: the head's comparison catches it and pyreadstat writes the file
    df, meta = _frame(100)
    monkeypatch.setattr(stata_rows, "MISSING_DOUBLE", np.uint64(0x7FF8000000000000))
    fast, slow, taken = _write_both(tmp_path, df, meta, monkeypatch)
    assert taken == [False]
    assert _masked(fast) == _masked(slow)


@pytest.mark.parametrize("value", [np.inf, -np.inf, -1e308])
def test_a_value_readstat_refuses_is_the_same_one_line_error(tmp_path, monkeypatch, value):
    df, meta = _frame(40)
    df.loc[20, "x"] = value  # not in the head of rows pyreadstat writes first
    taken: list[bool] = []
    real = stata_rows.write_dta_rows
    monkeypatch.setattr(stata_file, "write_dta_rows", lambda *a, **k: taken.append(real(*a, **k)) or taken[-1])
    with pytest.raises(stata_file.DataError) as err:
        write_stata(df, meta, tmp_path / "w.dta")
    assert taken == [False] and "\n" not in str(err.value) and "outside the range" in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [2147483621, -2147483648])
def test_a_long_readstat_refuses_falls_back_to_pyreadstat(tmp_path, value):
    df = pd.DataFrame({"v": np.array([1, 2, 3, value], dtype=np.int32)})
    with pytest.raises(pyreadstat.ReadstatError):
        pyreadstat.write_dta(df, str(tmp_path / "slow.dta"))
    written: list[int] = []
    assert not stata_rows.write_dta_rows(df, tmp_path / "fast.dta", lambda f, p: written.append(len(f)))
    assert written == []  # decided before pyreadstat writes anything
