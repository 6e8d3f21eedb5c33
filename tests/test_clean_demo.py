"""Cleaning the demo wave finds exactly the defects the demo injected (defects.csv, see
sid/demo/defects.py), and changes nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sid.clean import rebuild_wave, replay, run_clean
from sid.clean.register import read_gross_sample
from sid.demo import make_demo
from sid.io.wave import ingest, read_wave, write_raw_wave
from sid.spec.questionnaire_parse import load_questionnaire

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", params=[2022, 7])
def demo_run(request, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"demo{request.param}")
    data, out = base / "data", base / "run"
    make_demo(data, seed=request.param, scale=0.1)
    raw, meta = ingest([data / "sid2022_web.sav", data / "sid2022_capi.sav"])
    write_raw_wave(raw, meta, out)
    folder, res = run_clean(out, ROOT, data)
    defects = pd.read_csv(data / "defects.csv", dtype={"person_key": str, "injected_value": str})
    return data, out, folder, res, defects


def _keys(defects: pd.DataFrame, kind: str, variable: str | None = None) -> set[str]:
    d = defects[defects["defect"] == kind]
    if variable is not None:
        d = d[d["variable"] == variable]
    return set(d["person_key"])


def test_log_holds_exactly_the_injected_value_defects(demo_run):
    _, _, _, res, defects = demo_run
    log = res.log
    assert set(log["rule"]) <= {"duplicate", "invalid_code", "routing"}

    def triples(frame, rule=None):
        f = frame if rule is None else frame[frame["rule"] == rule]
        return sorted(zip(f["key"], f["variable"], f["before"].astype(float), strict=True))

    oor = defects[defects["defect"] == "out_of_range"]
    expected = sorted(zip(oor["person_key"], oor["variable"], oor["injected_value"].astype(float),
                          strict=True))
    assert len(expected) > 0 and triples(log, "invalid_code") == expected
    assert (log.loc[log["rule"] == "invalid_code", "after"] == -4.0).all()

    routed = defects[defects["defect"] == "routed_out"]
    expected = sorted(zip(routed["person_key"], routed["variable"],
                          routed["injected_value"].astype(float), strict=True))
    assert len(expected) > 0 and triples(log, "routing") == expected
    assert (log.loc[log["rule"] == "routing", "after"] == -3.0).all()

    dup = log[log["rule"] == "duplicate"]
    assert set(dup["key"]) == _keys(defects, "duplicate") and len(dup) == len(_keys(defects, "duplicate"))
    assert (dup["before"] == "capi").all()  # the later face-to-face copy is the one dropped
    assert len(log) == len(oor) + len(routed) + len(dup)


def test_nothing_else_changed_raw_versus_clean(demo_run):
    """Independent of the log: compare raw and clean cell by cell."""
    _, out, folder, res, defects = demo_run
    raw, _ = read_wave(out / "raw")
    clean, _ = read_wave(folder)
    dup = _keys(defects, "duplicate")
    # the dropped copies: the capi record of each duplicated key
    kept_raw = raw[~(raw["person_key"].isin(dup) & (raw["mode"] == "capi"))].reset_index(drop=True)
    assert len(clean) == len(kept_raw) and (clean["person_key"] == kept_raw["person_key"]).all()
    changed = set()
    for c in raw.columns:
        a, b = kept_raw[c], clean[c]
        diff = ~((a == b) | (a.isna() & b.isna())).to_numpy()
        changed |= {(k, c) for k in kept_raw["person_key"][diff]}
    doc = defects[defects["defect"].isin(["out_of_range", "routed_out"])]
    assert changed == set(zip(doc["person_key"], doc["variable"], strict=True))
    # and the log replayed on the raw wave gives the clean wave
    pd.testing.assert_frame_equal(replay(raw, res.log), clean[list(raw.columns)])
    back = pd.read_csv(folder / "log.csv", dtype={"key": str, "before": str, "after": str})
    pd.testing.assert_frame_equal(replay(raw, back), clean[list(raw.columns)])


def test_quality_flags_are_exactly_the_injected_ones(demo_run):
    _, _, folder, res, defects = demo_run
    f = pd.read_parquet(folder / "flags.parquet")
    assert set(f.loc[f["speeder"], "person_key"]) == _keys(defects, "speeder")
    sl = defects[defects["defect"] == "straightline"]
    for grid in ("belong_grid", "trust_grid"):
        assert set(f.loc[f[f"straightline_{grid}"], "person_key"]) == set(
            sl.loc[sl["variable"] == grid, "person_key"])
    for item in ("q_sex", "q_birth_year"):
        assert set(f.loc[f[f"mismatch_{item}"], "person_key"]) == _keys(
            defects, "register_mismatch", item)
    # the demo documents no inconsistent answers: no consistency check fails
    checks = [c for c in f.columns if c.startswith("check_")]
    assert checks == ["check_q_children_0"] and not f[checks].to_numpy().any()


def test_break_offs_classified_by_the_share_answered(demo_run):
    data, _, _, res, defects = demo_run
    f = res.flags.set_index("person_key")
    b = defects[defects["defect"] == "breakoff"].copy()
    kept = b["detail"].str.extract(r"kept the first (\d+) of (\d+)").astype(int)
    b["k"], b["m"] = kept[0].to_numpy(), kept[1].to_numpy()
    status = f.loc[b["person_key"], "status"].to_numpy()
    # bounds independent of the code: at most k items answered, at least m - 5 applicable
    # (5 routed items in sid2022.yaml); AAPOR: < 50 % break-off, < 80 % not complete
    n_routed = 5
    assert (status[b["k"] < 0.5 * (b["m"] - n_routed)] == "break-off").all()
    assert (status[b["k"] < 0.8 * (b["m"] - n_routed)] != "complete").all()
    assert (status[b["k"] < 0.8 * (b["m"] - n_routed)] == "partial").any()
    # the rest (complete interviews with their injected defects) are complete
    others = f.drop(index=b["person_key"])
    assert (others["status"] == "complete").all()
    # applicable items left empty: only in break-offs, and in each of them
    assert (others["n_empty_applicable"] == 0).all()
    assert (f.loc[b["person_key"], "n_empty_applicable"] > 0).all()
    assert int((f["status"] != "complete").sum()) <= len(b)
    disp = pd.read_csv(data / "dispositions.csv", dtype={"person_key": str})
    partial_keys = set(disp.loc[disp["disposition"] == "PARTIAL", "person_key"])
    assert set(b["person_key"]) == partial_keys


def test_clean_folder_meta_summary_and_manifest(demo_run):
    data, out, folder, res, _ = demo_run
    clean, meta = read_wave(folder)
    for name in ("origin", "age_band", "dutch_home", "sex", "birth_year"):
        assert name in clean.columns  # register join and derived variables
    assert meta["q_vote"].value_labels[-4.0] == "Ongeldige code"
    assert meta["q_vote"].is_missing_code(np.array([-4.0, -3.0, 3.0])).tolist() == [True, True, False]
    summary = pd.read_csv(folder / "summary.csv")
    changes = summary[summary["kind"] == "change"]
    assert int(changes["count"].sum()) == len(res.log)
    stages = json.loads((out / "manifest.json").read_text())["stages"]
    entry = stages["clean"]
    assert entry["params"]["gross_sample"] == str(data / "gross_sample.csv")
    assert any(i["path"].endswith("gross_sample.csv") for i in entry["inputs"])
    assert any(s["path"].endswith("sid2022.yaml") for s in entry["specs"])
    assert {o["path"] for o in entry["outputs"]} >= {"clean/data.parquet", "clean/log.csv",
                                                   "clean/flags.parquet"}
    assert re.fullmatch(r"[0-9a-f]{64}", entry["outputs"][0]["sha256"])


def test_clean_wave_rebuilt_from_raw_spec_and_log(demo_run):
    data, out, folder, _, _ = demo_run
    raw, _ = read_wave(out / "raw")
    clean, _ = read_wave(folder)
    q = load_questionnaire(ROOT / "questionnaires" / "sid2022.yaml")
    log = pd.read_csv(folder / "log.csv", dtype={"key": str, "before": str, "after": str})
    rebuilt = rebuild_wave(raw, log, q, read_gross_sample(data / "gross_sample.csv", q))
    pd.testing.assert_frame_equal(rebuilt, clean)
