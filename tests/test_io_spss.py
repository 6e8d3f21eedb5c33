"""sid.io.spss against SPSS-written files and the CSVs that give their expected contents
(reference/spss: from pyreadstat's test data; the CSVs were exported by SPSS)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.errors import DataError, InputFileError
from sid.io.spss import SpssMeta, VariableMeta, read_spss, write_spss

COLS = ["mychar", "mynum", "mydate", "dtime", "mylabl", "myord", "mytime"]
NUMERIC = ("mynum", "mylabl", "myord", "var1")


# -- the reference CSVs and our frames as plain Python values ---------------------------
def _missing(x: str) -> bool:
    return x in ("", "#NULL!", "NaN")


def _time(x: str) -> dt.time:
    h, m, s = x.split(":")
    return dt.time(int(h), int(m), int(float(s)))


def csv_values(path: Path) -> dict[str, list]:
    """Each column of a reference CSV as Python values (None: missing)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    conv = {
        "mydate": dt.date.fromisoformat,
        "dtime": dt.datetime.fromisoformat,
        "mytime": _time,
        **{c: float for c in NUMERIC},
    }
    out: dict[str, list] = {}
    for col in raw.columns:
        vals = raw[col].tolist()
        f = conv.get(col)
        out[col] = vals if f is None else [None if _missing(v) else f(v) for v in vals]
    return out


def _plain(v):
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.to_pydatetime() if isinstance(v, pd.Timestamp) else v


def frame_values(df: pd.DataFrame, columns: list[str]) -> dict[str, list]:
    """The same columns of ``df`` as Python values (None: missing)."""
    out = {}
    for col in columns:
        vals = [_plain(v) for v in df[col].astype(object).tolist()]
        out[col] = [None if v is None else float(v) for v in vals] if col in NUMERIC else vals
    return out


@pytest.fixture(scope="module")
def spss_dir(reference_dir: Path) -> Path:
    return reference_dir / "spss"


# -- reading ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sample.sav", "sample.zsav"])
def test_read_sample_matches_spss_csv(spss_dir, name):
    df, meta = read_spss(spss_dir / name)
    assert list(df.columns) == COLS
    assert frame_values(df, COLS) == csv_values(spss_dir / "sample.csv")
    assert meta.variables["mylabl"].value_labels == {1.0: "Male", 2.0: "Female"}
    assert meta.variables["myord"].value_labels == {1.0: "low", 2.0: "medium", 3.0: "high"}
    assert meta.variables["myord"].measure == "ordinal"
    assert meta.variables["mychar"].type == "string"
    assert meta.variables["mydate"].format == "EDATE10"
    assert meta.variables["mynum"].label == "numeric"
    assert meta.sources[0]["rows"] == 5


def test_sample_missing_user_codes_kept_match_spss_user_csv(spss_dir):
    df, meta = read_spss(spss_dir / "sample_missing.sav")
    assert frame_values(df, COLS) == csv_values(spss_dir / "sample_missing_user.csv")
    v = meta.variables
    assert v["mynum"].missing_ranges == [(2000.0, 3000.0)] and v["mynum"].missing_values == [-1.0]
    assert v["myord"].missing_values == [-1.0, -2.0, -3.0]
    assert v["mylabl"].missing_values == [-1.0]
    assert v["mylabl"].value_labels[-1.0] == "undetermined"


def test_sample_missing_valid_view_matches_spss_sysmis_csv(spss_dir):
    """Codes -> NaN through the metadata equals SPSS's export with user-missing as #NULL!."""
    df, meta = read_spss(spss_dir / "sample_missing.sav")
    expected = csv_values(spss_dir / "sample_missing.csv")
    assert frame_values(meta.valid_view(df), COLS) == expected
    # the mask is exactly where SPSS shows a code with user_na and #NULL! without
    user = csv_values(spss_dir / "sample_missing_user.csv")
    mask = meta.missing_mask(df)
    for col in COLS:
        want = [u is not None and e is None for u, e in zip(user[col], expected[col], strict=True)]
        assert mask[col].tolist() == want, col


def test_sample_missing_without_user_missing_matches_spss_sysmis_csv(spss_dir):
    df, _ = read_spss(spss_dir / "sample_missing.sav", user_missing=False)
    assert frame_values(df, COLS) == csv_values(spss_dir / "sample_missing.csv")


def test_missing_test_user_code_kept_and_labelled_as_csv(spss_dir):
    df, meta = read_spss(spss_dir / "missing_test.sav")
    labelled = pd.read_csv(spss_dir / "missing_sav_labeled.csv", dtype=str)["var1"].tolist()
    labels = meta.variables["var1"].value_labels
    shown = [labels.get(v, format(v, "g")) for v in df["var1"]]
    assert shown == labelled  # ["missing", "2"]: the code 1 is kept and carries its label
    assert meta.variables["var1"].missing_values == [1.0]
    assert meta.missing_mask(df)["var1"].tolist() == [True, False]


def test_missing_test_without_user_missing_matches_unformatted_csv(spss_dir):
    df, _ = read_spss(spss_dir / "missing_test.sav", user_missing=False)
    assert frame_values(df, ["var1"]) == csv_values(spss_dir / "missing_sav_unformatted.csv")


def test_chunked_read_matches_spss_csv(spss_dir):
    df, _ = read_spss(spss_dir / "sample_missing.sav", chunksize=2)
    assert len(df) == 7 and list(df.index) == list(range(7))
    assert frame_values(df, COLS) == csv_values(spss_dir / "sample_missing_user.csv")


def test_read_columns_subset_and_unknown_column(spss_dir):
    df, _ = read_spss(spss_dir / "sample.sav", columns=["mynum", "mychar"])
    assert set(df.columns) == {"mynum", "mychar"}
    with pytest.raises(InputFileError, match="nosuch"):
        read_spss(spss_dir / "sample.sav", columns=["nosuch"])


# -- round trip -------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".sav", ".zsav"])
@pytest.mark.parametrize(
    "name,user_csv,sysmis_csv",
    [
        ("sample.sav", "sample.csv", "sample.csv"),
        ("sample_missing.sav", "sample_missing_user.csv", "sample_missing.csv"),
        ("missing_test.sav", None, "missing_sav_unformatted.csv"),
    ],
)
def test_round_trip_keeps_labels_and_missing_declarations_per_spss_csv(
    spss_dir, tmp_path, name, user_csv, sysmis_csv, suffix
):
    df, meta = read_spss(spss_dir / name)
    out = tmp_path / f"copy{suffix}"
    write_spss(df, meta, out)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left behind
    df2, meta2 = read_spss(out)
    cols = list(df.columns)
    if user_csv:
        assert frame_values(df2, cols) == csv_values(spss_dir / user_csv)
    else:  # missing_test.sav: the code 1 is kept
        assert df2["var1"].tolist() == [1.0, 2.0]
    df3, _ = read_spss(out, user_missing=False)
    assert frame_values(df3, cols) == csv_values(spss_dir / sysmis_csv)
    for n, v in meta.variables.items():
        w = meta2.variables[n]
        for attr in (
            "label",
            "type",
            "measure",
            "value_labels",
            "missing_values",
            "missing_ranges",
        ):
            assert getattr(w, attr) == getattr(v, attr), (n, attr)
        if v.type == "numeric":
            assert w.format == v.format, n
    assert meta2.notes == meta.notes


def test_string_dtype_round_trip_with_missing_codes_and_non_ascii(tmp_path):
    df = pd.DataFrame(
        {
            "town": pd.Series(["Zoë's", "Brussel", "XX", "Liège", None], dtype="str"),
            "q1": [1.0, -1.0, 2.0, np.nan, -2.0],
        }
    )
    meta = SpssMeta(
        variables={
            "town": VariableMeta(
                name="town",
                label="Gemeente",
                type="string",
                missing_values=["XX"],
                measure="nominal",
            ),
            "q1": VariableMeta(
                name="q1",
                label="Vraag één",
                value_labels={1: "Ja", 2: "Nee", -1: "Weet niet"},
                missing_values=[-1],
                missing_ranges=[(-9, -2)],
                measure="nominal",
                format="F2.0",
            ),
        },
        file_label="Testgolf",
    )
    write_spss(df, meta, tmp_path / "t.sav")
    df2, meta2 = read_spss(tmp_path / "t.sav")
    assert df2["town"].tolist() == ["Zoë's", "Brussel", "XX", "Liège", ""]
    assert df2["q1"].tolist()[:3] == [1.0, -1.0, 2.0] and math.isnan(df2["q1"][3])
    assert meta2["town"].missing_values == ["XX"]
    assert meta2["q1"].missing_ranges == [(-9.0, -2.0)] and meta2["q1"].missing_values == [-1.0]
    assert meta2["q1"].label == "Vraag één" and meta2.file_label == "Testgolf"
    assert meta2.missing_mask(df2)["town"].tolist() == [False, False, True, False, False]
    assert meta2.missing_mask(df2)["q1"].tolist() == [False, True, False, False, True]


# -- metadata object ----------------------------------------------------------------------
def test_meta_json_round_trip_keeps_key_types_and_infinite_ranges():
    meta = SpssMeta(
        variables={
            "a": VariableMeta(
                name="a",
                value_labels={1: "x", -1.5: "y"},
                missing_ranges=[(-math.inf, -1)],
                missing_values=[99],
            ),
            "s": VariableMeta(
                name="s", type="string", value_labels={"1": "een"}, missing_values=["NA"]
            ),
        },
        sources=[{"path": "f.sav", "sha256": "ab", "mode": "web", "rows": 3}],
    )
    back = SpssMeta.from_json(meta.to_json())
    assert back == meta
    assert list(back["a"].value_labels) == [1.0, -1.5] and list(back["s"].value_labels) == ["1"]
    with pytest.raises(InputFileError):
        SpssMeta.from_json('{"format": "other"}')


def test_valid_view_leaves_columns_without_codes_untouched():
    df = pd.DataFrame({"a": [1, 2, -1], "b": [1, 2, 3]})
    meta = SpssMeta(
        variables={
            "a": VariableMeta(name="a", missing_values=[-1]),
            "b": VariableMeta(name="b", missing_values=[-1]),
        }
    )
    v = meta.valid_view(df)
    assert v["b"].dtype == df["b"].dtype and v["a"].isna().tolist() == [False, False, True]
    assert df["a"].tolist() == [1, 2, -1]  # the input is not changed


def test_write_rejects_declarations_spss_cannot_hold_and_writes_nothing(tmp_path):
    df = pd.DataFrame({"a": [1.0, 2.0]})
    two_ranges = SpssMeta(
        variables={"a": VariableMeta(name="a", missing_ranges=[(-9, -5), (-3, -1)])}
    )
    with pytest.raises(DataError, match="variable a"):
        write_spss(df, two_ranges, tmp_path / "x.sav")
    with pytest.raises(DataError, match=".sav or .zsav"):
        write_spss(df, SpssMeta.from_frame(df), tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_write_rejects_names_spss_forbids_and_leaves_no_file(tmp_path):
    df = pd.DataFrame({"a b": [1.0]})
    with pytest.raises(DataError, match="a b"):
        write_spss(df, SpssMeta.from_frame(df), tmp_path / "x.sav")
    assert list(tmp_path.iterdir()) == []


def test_string_value_labels_round_trip(tmp_path):
    df = pd.DataFrame({"s": pd.Series(["a", "b"], dtype="str")})
    meta = SpssMeta(
        variables={"s": VariableMeta(name="s", type="string", value_labels={"a": "Alpha"})}
    )
    write_spss(df, meta, tmp_path / "s.zsav")
    df2, meta2 = read_spss(tmp_path / "s.zsav")
    assert df2["s"].tolist() == ["a", "b"] and meta2["s"].value_labels == {"a": "Alpha"}


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_write_spss_keeps_datetime64_values_of_any_unit(tmp_path, unit):
    """Regression: pyreadstat alone writes datetime64[s] as 1970-01-01 for every row."""
    written = ["2022-09-19T10:30:00", "1600-01-01T00:00:00", "1999-12-31T23:59:59", "NaT"]
    values = np.array(written, dtype=f"datetime64[{unit}]")
    df = pd.DataFrame({"when": values, "day": values.astype("datetime64[D]")})
    assert df["when"].dtype == f"datetime64[{unit}]"
    write_spss(df, SpssMeta(variables={}), tmp_path / "d.sav")
    back, _ = read_spss(tmp_path / "d.sav")
    expected = [None if w == "NaT" else dt.datetime.fromisoformat(w) for w in written]
    assert frame_values(back, ["when"])["when"] == expected
    days = [None if e is None else dt.datetime(e.year, e.month, e.day) for e in expected]
    got = [_plain(v) for v in back["day"].astype(object).tolist()]
    assert [None if g is None else dt.datetime(g.year, g.month, g.day) for g in got] == days


# -- object columns whose first values are missing (pyreadstat guesses from the first 100) --
N_LEAD = 150  # missing rows before the first value: more than pyreadstat's 100


def _lead(value, n: int = 300, lead: int = N_LEAD) -> pd.Series:
    return pd.Series([np.nan] * lead + [value] * (n - lead), dtype=object)


def test_date_time_and_text_columns_missing_in_their_first_rows_round_trip(tmp_path):
    """Dates (datetime.date objects, as read_spss gives them), date-times and times missing
    in their first 150 rows, all-missing date and text columns, text missing first: each is
    written with its type and format and reads back with the same values (text: "" for a
    missing text, SPSS has no system-missing string)."""
    when = dt.datetime(2022, 9, 19, 10, 30, 15)
    df = pd.DataFrame({
        "day": _lead(dt.date(2022, 9, 19)),
        "day_none": _lead(dt.date(2022, 9, 19)).where(lambda s: s.notna(), None),
        "day_all": _lead(None, lead=300),
        "stamp": _lead(when),
        "clock": _lead(dt.time(10, 30, 15)),
        "text": _lead("BEL"),
        "text_str": pd.Series([None] * N_LEAD + ["ROU"] * N_LEAD, dtype="str"),
        "text_all": _lead(None, lead=300),
        "num": _lead(3.0),
    })
    before = df.copy()
    meta = SpssMeta(variables={
        "day": VariableMeta(name="day", label="Datum", type="numeric", format="EDATE10", measure="scale"),
        "day_all": VariableMeta(name="day_all", type="numeric", format="DATE11", measure="scale"),
        "text": VariableMeta(name="text", type="string", format="A3"),
        "text_str": VariableMeta(name="text_str", type="string", format="A3"),
        "text_all": VariableMeta(name="text_all", type="string", format="A3"),
    })  # the others without metadata: typed from their values
    write_spss(df, meta, tmp_path / "w.sav")
    pd.testing.assert_frame_equal(df, before)  # the input is not changed
    back, m = read_spss(tmp_path / "w.sav")
    formats = {c: m[c].format for c in df.columns}
    assert formats == {"day": "EDATE10", "day_none": "DATE11", "day_all": "DATE11", "stamp": "DATETIME20",
                       "clock": "TIME8", "text": "A3", "text_str": "A3", "text_all": "A1", "num": "F8.2"}
    types = {c: m[c].type for c in df.columns}
    assert types == {**{c: "numeric" for c in ("day", "day_none", "day_all", "stamp", "clock", "num")},
                     **{c: "string" for c in ("text", "text_str", "text_all")}}
    assert m["day"].label == "Datum"
    got = frame_values(back, list(df.columns))
    lead = [None] * N_LEAD
    assert got["day"] == got["day_none"] == lead + [dt.date(2022, 9, 19)] * N_LEAD
    assert got["day_all"] == [None] * 300
    assert got["stamp"] == lead + [when] * N_LEAD
    assert got["clock"] == lead + [dt.time(10, 30, 15)] * N_LEAD
    assert got["text"] == [""] * N_LEAD + ["BEL"] * N_LEAD
    assert got["text_str"] == [""] * N_LEAD + ["ROU"] * N_LEAD
    assert got["text_all"] == [""] * 300
    assert got["num"] == lead + [3.0] * N_LEAD


def test_write_rejects_text_in_a_numeric_object_column_and_writes_nothing(tmp_path):
    df = pd.DataFrame({"visit": _lead("soon")})
    meta = SpssMeta(variables={"visit": VariableMeta(name="visit", type="numeric", format="DATE11")})
    with pytest.raises(DataError) as err:
        write_spss(df, meta, tmp_path / "x.sav")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("variable visit: declared numeric") and "'soon'" in msg
    assert list(tmp_path.iterdir()) == []
