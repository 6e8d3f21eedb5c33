"""Benchmark data: the demo wave's respondents at a given scale, built once and cached.

``load(scale)`` returns a :class:`BenchData`: one row per responding person of the demo
wave (``sid demo --scale K``), the gross sample's register variables joined to the
survey answers, the five indices scored as the questionnaire spec says and the headline
``dutch_home``; and the population margins origin x sex, origin x age_band and
origin x region summed from the demo's register_population.csv. Everything is cached
under ``data/bench/scale<K>/`` (demo folder, respondents.parquet, respondents.csv for R,
margins.csv), so the timed work never includes generating or reading the data.

Preparation that the real pipeline does in other stages is done here simply and
untimed: duplicate interviews keep their first record, user-missing codes and values
outside an item's declared range become missing (the clean stage's job).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sid.demo import make_demo
from sid.demo.fieldwork import RESPONDED
from sid.io.spss import read_spss
from sid.scales.index import compute_index, item_ranges_from_spec
from sid.spec.questionnaire_parse import load_questionnaire

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "data" / "bench"
SPEC = ROOT / "questionnaires" / "sid2022.yaml"
SEED = 2022

ORIGIN_MARGINS = ("sex", "age_band", "region")  # raked within origin: origin x each
INDICES = ("idx_language", "idx_discrimination", "idx_inclusion", "idx_religiosity", "idx_citizenship")
HEADLINE = ("dutch_home",)  # 0/1 headline shares, estimated as means
CATEGORICAL = ("q_lang_home",)  # proportions of every category
FORMAT_VERSION = 2  # bump when the prepared columns change, to rebuild caches


class CachedData:
    """What a benchmark data set has: ``respondents`` (pandas), ``margins``
    ({"origin:sex": {"BEL:1": N, ...}, ...}) and the cache ``folder`` holding both as CSV
    (for svy and R)."""

    respondents: pd.DataFrame
    folder: Path

    @property
    def n(self) -> int:
        return len(self.respondents)

    @property
    def csv(self) -> Path:
        return self.folder / "respondents.csv"

    @property
    def margins_csv(self) -> Path:
        return self.folder / "margins.csv"


@dataclass(frozen=True)
class BenchData(CachedData):
    """The demo wave's respondents at a ``scale``, their margins and cache folder."""

    scale: float
    respondents: pd.DataFrame
    margins: dict[str, dict[str, float]]
    folder: Path


def _folder(scale: float) -> Path:
    return CACHE / f"scale{scale:g}"


def _respondents(demo: Path) -> pd.DataFrame:
    gross = pd.read_csv(demo / "gross_sample.csv", dtype={"person_key": str})
    disp = pd.read_csv(demo / "dispositions.csv", dtype={"person_key": str})
    responded = set(disp.loc[disp["disposition"].isin(RESPONDED), "person_key"])
    parts = [read_spss(demo / f"sid2022_{m}.sav", user_missing=False)[0] for m in ("web", "capi")]
    answers = pd.concat(parts, ignore_index=True)
    answers["person_key"] = answers["person_key"].astype(str)
    answers = answers.drop_duplicates("person_key", keep="first")
    answers = answers[answers["person_key"].isin(responded)]
    keep = ["person_key", "origin", "sex", "age_band", "region", "design_weight"]
    df = gross[keep].merge(answers, on="person_key", how="inner", validate="one_to_one")
    spec = load_questionnaire(SPEC)
    for index in spec.indices:
        if index.name not in INDICES:
            continue
        ranges = item_ranges_from_spec(spec, index.items)
        for item in index.items:  # out-of-range answers are missing, as cleaning makes them
            lo, hi = ranges[item]
            x = df[item].astype(float)
            df[item] = x.where((x >= lo) & (x <= hi))
        df[index.name] = compute_index(df, index, item_ranges=ranges).score.to_numpy()
    lang = df["q_lang_home"].astype(float)
    lang = lang.where(lang.isin([1, 2, 3, 4, 5]))
    df["q_lang_home"] = lang
    df["dutch_home"] = np.where(lang.isna(), np.nan, (lang == 1).astype(float))
    out = df[["person_key", "origin", "sex", "age_band", "region", "design_weight",
              *INDICES, *HEADLINE, *CATEGORICAL]].copy()
    for c in ("sex", "age_band", "region"):
        out[c] = out[c].astype(np.int64)
    out = out.sort_values(["origin", "person_key"], kind="stable").reset_index(drop=True)
    out["psu"] = np.arange(1, len(out) + 1)  # each respondent its own PSU
    # Interaction codes for peers without interaction margins (svy's rake, R's rake).
    for v in ORIGIN_MARGINS:
        out[f"origin_{v}"] = out["origin"] + ":" + out[v].astype(str)
    return out


def _margins(demo: Path) -> pd.DataFrame:
    pop = pd.read_csv(demo / "register_population.csv")
    rows = []
    for v in ORIGIN_MARGINS:
        t = pop.groupby(["origin", v], sort=True)["count"].sum()
        for (o, c), total in t.items():
            rows.append({"margin": f"origin:{v}", "category": f"{o}:{int(c)}",
                         "peer_variable": f"origin_{v}", "total": float(total)})
    return pd.DataFrame(rows)


def load(scale: float, log=print) -> BenchData:
    """Build (first time) or read the benchmark data at ``scale``."""
    folder = _folder(scale)
    stamp = folder / "bench.json"
    ok = stamp.exists() and json.loads(stamp.read_text()).get("format") == FORMAT_VERSION
    if not ok:
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if not (folder / "demo" / "demo.json").exists():
            log(f"  building the demo wave at scale {scale:g} (sid demo) ...")
            make_demo(folder / "demo", seed=SEED, scale=scale)
        log(f"  preparing respondents at scale {scale:g} ...")
        resp = _respondents(folder / "demo")
        marg = _margins(folder / "demo")
        resp.to_parquet(folder / "respondents.parquet", index=False)
        resp.to_csv(folder / "respondents.csv", index=False)
        marg.to_csv(folder / "margins.csv", index=False)
        stamp.write_text(json.dumps({"format": FORMAT_VERSION, "scale": scale, "seed": SEED,
                                     "n": len(resp), "seconds": time.perf_counter() - t0}))
    resp = pd.read_parquet(folder / "respondents.parquet")
    marg = pd.read_csv(folder / "margins.csv")
    margins: dict[str, dict[str, float]] = {}
    for row in marg.itertuples(index=False):  # a few dozen margin cells, not respondents
        margins.setdefault(row.margin, {})[row.category] = float(row.total)
    return BenchData(scale, resp, margins, folder)
