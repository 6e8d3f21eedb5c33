"""The fieldwork stage on the demo wave (sid.fieldwork.stage.run_fieldwork, ``sid fieldwork``):
rates by hand from the demo's files, break-offs from the cleaning flags, bad input."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.clean import run_clean
from sid.cli import main
from sid.demo import make_demo
from sid.fieldwork.stage import run_fieldwork
from sid.io.wave import ingest, write_raw_wave

ROOT = Path(__file__).resolve().parents[1]
COUNTS = ["I", "P", "R", "NC", "O", "UH", "UO", "NE"]
CLASS = {"COMPLETE": "I", "PARTIAL": "P", "REFUSAL": "R", "NONCONTACT": "NC", "LANGUAGE": "O",
         "UNKNOWN": "UH", "NOT_ELIGIBLE": "NE"}  # weights/sid2022.yaml, classes by AAPOR chapter


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo wave (scale 0.1) ingested and cleaned: (data folder, run folder)."""
    base = tmp_path_factory.mktemp("fw")
    data, out = base / "data", base / "run"
    make_demo(data, seed=11, scale=0.1)
    df, meta = ingest([data / "sid2022_web.sav", data / "sid2022_capi.sav"])
    write_raw_wave(df, meta, out)
    run_clean(out, ROOT, data)
    return data, out


@pytest.fixture
def copy(demo_run, tmp_path):
    """A private copy of the demo's data folder and run folder (to add defects to)."""
    data, out = demo_run
    shutil.copytree(data, tmp_path / "data")
    shutil.copytree(out, tmp_path / "run")
    return tmp_path / "data", tmp_path / "run"


def _by_hand(data: Path, out: Path) -> pd.DataFrame:
    """Outcome classes per case from the demo's files alone (pandas merges, no sid code)."""
    gross = pd.read_csv(data / "gross_sample.csv", dtype={"person_key": str})
    disp = pd.read_csv(data / "dispositions.csv", dtype={"person_key": str}, keep_default_na=False)
    cases = gross[["person_key", "stratum"]].merge(disp[["person_key", "disposition", "mode"]])
    cases["outcome"] = cases["disposition"].map(CLASS)
    flags = pd.read_parquet(out / "clean" / "flags.parquet")
    broke = set(flags.loc[flags["status"] == "break-off", "person_key"])
    cases.loc[(cases["outcome"] == "P") & cases["person_key"].isin(broke), "outcome"] = "R"
    return cases


def test_rates_on_the_demo_match_counts_by_hand(copy):
    data, out = copy
    assert main(["fieldwork", "--out", str(out), "--project", str(ROOT), "--data", str(data)]) == 0
    rates = pd.read_csv(out / "fieldwork" / "rates.csv", keep_default_na=False)
    assert {"overall", "group", "mode", "group×mode"} <= set(rates["level"])
    cases = _by_hand(data, out)
    un = rates[rates["basis"] == "unweighted"]
    # counts add up to the gross sample, overall and per origin group
    overall = un[un["level"] == "overall"].iloc[0]
    assert overall["n"] == len(cases) and overall[COUNTS].sum() == len(cases)
    hand = cases.groupby(["stratum", "outcome"]).size().unstack(fill_value=0)
    for _, row in un[un["level"] == "group"].iterrows():
        for c in COUNTS:
            assert row[c] == hand.loc[row["group"]].get(c, 0), (row["group"], c)
        h = hand.loc[row["group"]]
        # AAPOR RR1 = I / (all cases but the not eligible)
        assert row["RR1"] == pytest.approx(h.get("I", 0) / (h.sum() - h.get("NE", 0)))
    # every case has the mode of its last attempt (sequential web -> face-to-face)
    modes = un[un["level"] == "mode"].set_index("mode")
    assert set(modes.index) == {"web", "capi"} and modes["n"].sum() == len(cases)
    for m in ("web", "capi"):
        h = cases.loc[cases["mode"] == m, "outcome"].value_counts()
        assert modes.loc[m, "RR1"] == pytest.approx(h.get("I", 0) / (h.sum() - h.get("NE", 0)))
    # the demo's design: Belgians respond more than Romanians, weighted or not
    org = rates[rates["level"] == "group"].set_index(["basis", "group"])["RR1"]
    for basis in rates["basis"].unique():
        assert org[(basis, "BEL")] > org[(basis, "ROU")]
    # design-weighted counts add up to the register population (sum N_h)
    pop = pd.read_csv(data / "register_population.csv")["count"].sum()
    w = rates[(rates["level"] == "overall") & (rates["basis"] != "unweighted")].iloc[0]
    assert w[COUNTS].sum() == pytest.approx(pop, rel=1e-12)
    entry = json.loads((out / "manifest.json").read_text())["stages"]["fieldwork"]
    assert entry["specs"][0]["path"].endswith("sid2022.yaml")
    assert {Path(o["path"]).name for o in entry["outputs"]} == {"rates.csv", "cases.parquet"}


def test_partials_that_cleaning_found_to_be_breakoffs_are_aapor_2_12(copy):
    data, out = copy
    folder, res = run_fieldwork(out, ROOT, data)
    cases = pd.read_parquet(folder / "cases.parquet")
    assert list(cases.columns) == ["person_key", "stratum", "disposition", "mode", "aapor_code",
                                   "outcome", "design_weight"]
    hand = _by_hand(data, out)
    moved = (hand["disposition"] == "PARTIAL") & (hand["outcome"] == "R")
    assert moved.sum() > 0 and res.breakoffs == moved.sum()
    got = cases.set_index("person_key").loc[hand.loc[moved, "person_key"]]
    assert set(got["aapor_code"]) == {"2.12"} and set(got["outcome"]) == {"R"}
    rates = pd.read_csv(folder / "rates.csv", keep_default_na=False)
    assert rates["note"].str.contains(f"{moved.sum()} partial interview.*AAPOR 2.12").all()
    # without the clean wave, the raw wave's keys are used and nothing is reclassified
    shutil.rmtree(out / "clean")
    folder, res = run_fieldwork(out, ROOT, data)
    assert res.breakoffs == 0 and res.survey_source == out / "raw"
    assert not pd.read_csv(folder / "rates.csv", keep_default_na=False)["note"].str.contains("2.12").any()


def _edit_csv(path: Path, edit) -> None:
    df = pd.read_csv(path, dtype={"person_key": str}, keep_default_na=False)
    edit(df).to_csv(path, index=False)


def _first_respondent(out: Path) -> str:
    return str(pd.read_parquet(out / "clean" / "data.parquet", columns=["person_key"]).iloc[0, 0])


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


@pytest.mark.parametrize("defect", ["unmapped_code", "respondent_not_drawn", "key_twice", "no_mode",
                                    "frame_count_negative", "frame_cell_twice"])
def test_bad_input_is_one_line_and_writes_nothing(copy, capsys, defect):
    data, out = copy
    frame = data / "register_population.csv"
    if defect == "unmapped_code":
        _edit_csv(data / "dispositions.csv",
                  lambda d: d.assign(disposition=np.where(d.index == 3, "MOVED", d["disposition"])))
        says = "disposition code(s) MOVED (1 case) map to no AAPOR code: add them to spec key dispositions"
    elif defect == "respondent_not_drawn":
        key = _first_respondent(out)
        for f in ("gross_sample.csv", "dispositions.csv"):
            _edit_csv(data / f, lambda d, k=key: d[d["person_key"] != k])
        says = f"1 respondent key(s) have no record in the gross sample (first: {key})"
    elif defect == "no_mode":
        _edit_csv(data / "dispositions.csv", lambda d: d.drop(columns="mode"))
        says = f"{data / 'dispositions.csv'}: no column 'mode' (weighting spec key sample."
    elif defect == "frame_count_negative":
        _edit_csv(frame, lambda d: d.assign(count=np.where(d.index == 4, -12, d["count"])))
        says = f"{frame}: row 6: count -12 of cell (origin="
    elif defect == "frame_cell_twice":
        _edit_csv(frame, lambda d: pd.concat([d, d.iloc[[4]]]))
        says = f"{frame}: rows 6 and {len(pd.read_csv(frame)) + 1} hold the same cell (origin="
    else:
        _edit_csv(data / "gross_sample.csv", lambda d: pd.concat([d, d.iloc[[5]]]))
        says = "gross sample: 1 person_key value(s) occur more than once (2 rows;"
    before = _digest(data)
    rc = main(["fieldwork", "--out", str(out), "--project", str(ROOT), "--data", str(data)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("sid: error: "), err
    assert says in err[0], err[0]
    assert _digest(data) == before
    assert not (out / "fieldwork").exists()
    assert "fieldwork" not in json.loads((out / "manifest.json").read_text())["stages"]
