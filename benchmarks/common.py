"""Shared pieces of the benchmarks: task settings, timing, tidy estimates, agreement.

Every implementation returns its estimates as a *tidy* frame with columns
``variable, group, category, estimate, se`` (group "ALL" for the whole population,
else the origin code; category "" for means, else the category code as text), so the
three can be compared row by row.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.data import HEADLINE, INDICES

TOL = 1e-8  # relative margin misfit at which every implementation stops raking
REPLICATES = 100
BOOT_SEED = 20221
TAYLOR_VARS = ("idx_language", "idx_discrimination", "idx_inclusion", "dutch_home")
TABLE_MEANS = (*INDICES, *HEADLINE)
TABLE_PROPS = ("q_lang_home",)
KEYS = ["variable", "group", "category"]


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Smallest wall time (s) of ``repeats`` calls of ``fn`` and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate tidy frames, normalise key text, sort by the keys."""
    out = pd.concat(frames, ignore_index=True)
    out["category"] = out["category"].map(_cat_text)
    out["group"] = out["group"].astype(str)
    return out[[*KEYS, "estimate", "se"]].sort_values(KEYS, kind="stable").reset_index(drop=True)


def _cat_text(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v == "":
        return ""
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
    return str(int(f)) if f.is_integer() else repr(f)


def max_rel_diff(a: pd.DataFrame | None, b: pd.DataFrame | None) -> dict[str, float] | None:
    """Largest relative difference of estimates and of SEs between two tidy frames.

    Relative to the larger magnitude of the pair (0 when both are 0); rows must match
    one to one (a missing row is reported as an infinite difference).
    """
    if a is None or b is None:
        return None
    m = a.merge(b, on=KEYS, how="outer", suffixes=("_a", "_b"), indicator=True)
    if (m["_merge"] != "both").any():
        return {"estimate": float("inf"), "se": float("inf"), "rows": int(len(m))}

    def rel(x: pd.Series, y: pd.Series) -> float:
        x, y = x.to_numpy(float), y.to_numpy(float)
        den = np.maximum(np.abs(x), np.abs(y))
        with np.errstate(invalid="ignore", divide="ignore"):
            d = np.where(den > 0, np.abs(x - y) / den, 0.0)
        return float(np.nanmax(d)) if d.size else 0.0

    return {"estimate": rel(m["estimate_a"], m["estimate_b"]), "se": rel(m["se_a"], m["se_b"]),
            "rows": int(len(m))}


def weight_rel_diff(a: np.ndarray | None, b: np.ndarray | None) -> dict[str, float] | None:
    """Largest relative difference between two weight vectors (or matrices)."""
    if a is None or b is None:
        return None
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return {"weights": float("inf")}
    den = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(den > 0, np.abs(a - b) / den, 0.0)
    return {"weights": float(d.max())}
