"""The Stata writer of the analysts' file (sid.report.stata_file) at Stata's limits: names
renamed (documented map), labels shortened, value labels of non-whole codes listed,
missing codes as extended missing values, and the one-line errors that leave no file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from sid.errors import DataError
from sid.io.spss_meta import SpssMeta, VariableMeta
from sid.report.stata_file import stata_names, write_stata

LONG = "een_heel_lange_variabelenaam_van_veertig_tekens"


def test_names_stata_cannot_take_are_renamed_uniquely():
    names = [LONG, "a.b", "a_b", "in", "1x", "één", "x" * 32, "y" * 32, "ok"]
    got = stata_names(names, labelled={"y" * 32})
    assert got[LONG] == LONG[:32]
    assert got["a.b"] == "a_b_2"  # a_b is taken by the variable of that name
    assert got["in"] == "in_" and got["1x"] == "_1x" and got["één"] == "__n"
    assert "x" * 32 not in got  # 32 characters fit
    assert got["y" * 32] == "y" * 31  # a labelled variable: its label set is <name>0
    assert "ok" not in got and "a_b" not in got
    assert len(set(got.values())) == len(got)


def _frame():
    df = pd.DataFrame({LONG: [1.0, 2.0, -1.0, np.nan], "ratio": [0.5, 1.5, 0.5, 1.0],
                       "txt": ["a", "b", "", "a"]})
    meta = SpssMeta(variables={
        LONG: VariableMeta(LONG, label="L" * 100, value_labels={1.0: "Ja", 2.0: "Nee", -1.0: "Weet niet"},
                           missing_values=[-1.0]),
        "ratio": VariableMeta("ratio", label="Verhouding", value_labels={0.5: "half"}),
        "txt": VariableMeta("txt", label="Tekst", type="string", value_labels={"a": "A"}),
    }, file_label="Bestand")
    return df, meta


def test_write_stata_renames_shortens_and_lists_what_it_could_not_label(tmp_path):
    df, meta = _frame()
    info = write_stata(df, meta, tmp_path / "w.dta")
    data, m = pyreadstat.read_dta(str(tmp_path / "w.dta"), user_missing=True)
    new = info.name(LONG)
    assert info.renames == {LONG: new} and len(new) <= 31
    assert list(data.columns) == [new, "ratio", "txt"]
    labels = dict(zip(m.column_names, m.column_labels, strict=True))
    assert labels[new] == "L" * 77 + "..." and info.shortened == [LONG]
    assert info.missing_letters == {-1.0: "a"}
    assert data[new].tolist()[:3] == [1.0, 2.0, "a"] and pd.isna(data[new].iloc[3])
    assert m.variable_value_labels[new] == {1: "Ja", 2: "Nee", "a": "Weet niet"}
    assert ("ratio", 0.5) in info.unlabelled and ("txt", "a") in info.unlabelled
    assert data["ratio"].tolist() == [0.5, 1.5, 0.5, 1.0]  # the values are kept


def test_more_than_26_missing_codes_is_a_one_line_error_and_no_file(tmp_path):
    codes = [float(-i) for i in range(1, 28)]
    df = pd.DataFrame({"x": codes})
    meta = SpssMeta(variables={"x": VariableMeta("x", missing_ranges=[(-27.0, -1.0)])})
    with pytest.raises(DataError) as err:
        write_stata(df, meta, tmp_path / "w.dta")
    msg = str(err.value)
    assert "\n" not in msg and "27 distinct missing codes" in msg and "-1" in msg and ".z" in msg
    assert list(tmp_path.iterdir()) == []


def test_a_file_pyreadstat_refuses_is_a_one_line_error_naming_it_and_no_file(tmp_path, monkeypatch):
    import sid.report.stata_file as sf

    def refuse(*args, **kwargs):
        raise pyreadstat.ReadstatError("A provided label is too long for the file format")

    monkeypatch.setattr(sf.pyreadstat, "write_dta", refuse)
    df, meta = _frame()
    with pytest.raises(DataError) as err:
        write_stata(df, meta, tmp_path / "w.dta")
    msg = str(err.value)
    assert "\n" not in msg and "w.dta" in msg and "too long" in msg
    assert list(tmp_path.iterdir()) == []
