"""sid.io.spss_rows: the .sav rows written by numpy are byte for byte pyreadstat's rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import sid.io.spss as spss
from sid.io import spss_rows
from sid.io.spss import SpssMeta, VariableMeta, read_spss, write_spss
from tests.fast_writers import write_both

TIMESTAMP = slice(92, 109)  # creation date and time in the header: the clock, not the data


def _frame(n: int = 700) -> tuple[pd.DataFrame, SpssMeta]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=n) * 1e3
    x[::7] = np.nan
    df = pd.DataFrame({
        "key": [f"p{i:05d}" for i in range(n)],
        "x": x,
        "code": rng.integers(1, 5, n).astype(float),
        "count": rng.integers(-3, 300, n),
        "nullable": pd.array([None if i % 5 == 0 else i for i in range(n)], dtype="Int64"),
        "flag": rng.random(n) < 0.3,
        "city": pd.array(["Gent", "Brussel", None, "Liège", "", "Sint-Niklaas"] * (n // 6) +
                         ["Ieper"] * (n % 6), dtype="string"),
        "long": ["é" * (i % 301) for i in range(n)],  # up to 600 bytes: segments of 255
        "when": pd.to_datetime("2022-03-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        "day": pd.array([dt.date(2022, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 400, n)],
                        dtype=object),
    })
    df.loc[3, "when"] = pd.NaT
    meta = SpssMeta(variables={
        "key": VariableMeta(name="key", label="Sleutel", type="string", format="A6"),
        "x": VariableMeta(name="x", label="Een getal", type="numeric", format="F12.6", measure="scale"),
        "code": VariableMeta(name="code", label="Code", type="numeric", format="F1.0", measure="nominal",
                             value_labels={1.0: "een", 2.0: "twee"}, missing_values=[4.0]),
        "city": VariableMeta(name="city", label="Gemeente", type="string"),
        "long": VariableMeta(name="long", label="Lange tekst", type="string"),
    }, file_label="test", notes=["sid: a note"])
    return df, meta


def _write_both(tmp_path, df, meta, monkeypatch) -> tuple[bytes, bytes, list[bool]]:
    return write_both(spss, "write_sav_rows", write_spss, df, meta, tmp_path / "fast.sav", tmp_path / "slow.sav",
                      monkeypatch)


def _masked(b: bytes) -> bytes:
    return b[:TIMESTAMP.start] + b"\0" * (TIMESTAMP.stop - TIMESTAMP.start) + b[TIMESTAMP.stop:]


def test_numpy_rows_equal_pyreadstat_rows_byte_for_byte(tmp_path, monkeypatch):
    df, meta = _frame()
    monkeypatch.setattr(spss_rows, "BLOCK_ROWS", 64)  # several blocks, the last one short
    fast, slow, taken = _write_both(tmp_path, df, meta, monkeypatch)
    assert taken == [True]
    assert len(fast) == len(slow)
    assert _masked(fast) == _masked(slow)
    back, _ = read_spss(tmp_path / "fast.sav")
    assert len(back) == len(df)
    assert back["long"].iloc[300] == "é" * 300  # 600 bytes: three segments


def test_a_nul_byte_in_a_string_falls_back_to_pyreadstat(tmp_path, monkeypatch):
    df, meta = _frame(50)
    df["key"] = df["key"].astype(object)
    df.loc[10, "key"] = "a\x00b"
    fast, slow, taken = _write_both(tmp_path, df, meta, monkeypatch)
    assert taken == [False]
    assert _masked(fast) == _masked(slow)


@pytest.mark.parametrize("kind", ["category", "zsav"])
def test_columns_or_files_it_does_not_encode_are_written_by_pyreadstat(tmp_path, monkeypatch, kind):
    df, meta = _frame(40)
    name = "out.zsav" if kind == "zsav" else "out.sav"
    if kind == "category":
        # numeric categories: pyreadstat writes the categories' numbers; spss_rows does not encode them
        df["grp"] = pd.Categorical([1.0, 2.0] * 20)
        meta.variables["grp"] = VariableMeta(name="grp", label="Groep", type="numeric")
    calls: list[bool] = []
    real = spss_rows.write_sav_rows
    monkeypatch.setattr(spss, "write_sav_rows", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    write_spss(df, meta, tmp_path / name)
    assert calls == ([False] if kind == "category" else [])
    back, _ = read_spss(tmp_path / name)
    assert len(back) == 40
    assert list(tmp_path.iterdir()) == [tmp_path / name]
