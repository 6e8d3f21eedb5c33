"""The declared design of a gross sample: design strata, PSUs per stage, fpc, design weights.

A sample's strata may be several variables (SID 2017: origin group x province); the
*design stratum* is their combination, labelled by the variables' category texts joined
by ``:`` (``BEL:ANT``), in the gross sample and, under ``frame_strata``, in the frame.
Design weights are N_h / n_h per design stratum (frame count over gross-sample size,
:mod:`sid.weighting.design_weights`), or the gross sample's own column
``sample.design_weight`` (1 / inclusion probability: a PPS draw of PSUs has weights
that stratum counts cannot give). PSUs (one column per stage) and fpc columns are taken
from the gross sample as declared (:class:`sid.spec.weighting.SampleSpec`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.errors import WeightingError
from sid.spec.weighting import SampleSpec
from sid.weighting.design_weights import design_weights
from sid.weighting.margins import category_text

__all__ = ["SEP", "joined_labels", "stratum_population", "sample_design_weights", "stage_columns"]

SEP = ":"  # between the stratum variables' categories in a design stratum's label


def joined_labels(df: pd.DataFrame, names: tuple[str, ...] | list[str], what: str) -> np.ndarray:
    """One label per row: the category text of each of ``names`` joined by ``:``.

    Texts are made for the distinct values only (one factorisation per column, one per
    combination), never per row. Raises WeightingError naming ``what`` and the column when
    a column is absent or a row has no value.
    """
    codes, texts = [], []
    for v in names:
        if v not in df.columns:
            raise WeightingError(f"{what}: no column {v!r}; the sample's design declares it")
        col = df[v]
        if col.isna().any():
            raise WeightingError(f"{what}: {int(col.isna().sum())} rows have no value of {v!r} "
                                 f"(first: row {int(np.flatnonzero(col.isna().to_numpy())[0])}); "
                                 "every sampled person needs one")
        c, u = pd.factorize(col)
        codes.append(c.astype(np.int64))
        texts.append(np.array([category_text(x) for x in u], dtype=object))
    if len(names) == 1:
        return texts[0][codes[0]]
    key = np.zeros(len(df), dtype=np.int64)
    for c, t in zip(codes, texts, strict=True):
        key = key * len(t) + c
    ukey, inv = np.unique(key, return_inverse=True)
    digits = []
    rest = ukey.copy()
    for t in reversed(texts):  # mixed-radix digits, last variable first
        digits.append(t[rest % len(t)])
        rest //= len(t)
    labels = np.array([SEP.join(parts) for parts in zip(*reversed(digits), strict=True)], dtype=object)
    return labels[inv.ravel()]


def stratum_population(frame: pd.DataFrame, sample: SampleSpec, where: str = "frame") -> dict[str, float]:
    """N_h: the frame's ``frame_count`` summed over the cells of each design stratum
    (``where`` names the frame in errors)."""
    need = [*sample.frame_strata, sample.frame_count]
    lacking = [c for c in need if c not in frame.columns]
    if lacking:
        raise WeightingError(f"{where}: no column {lacking[0]!r}; design weights N_h/n_h need the "
                             f"strata ({', '.join(sample.frame_strata)}) and {sample.frame_count!r}")
    labels = joined_labels(frame, sample.frame_strata, where)
    return pd.Series(frame[sample.frame_count].to_numpy(dtype=float)).groupby(labels).sum().to_dict()


def sample_design_weights(gross: pd.DataFrame, frame: pd.DataFrame, sample: SampleSpec,
                          stratum: np.ndarray, frame_where: str = "frame") -> np.ndarray:
    """Design weight of every sampled person: the ``sample.design_weight`` column when
    declared (finite, > 0), else N_h / n_h per design stratum ``stratum`` (labels of
    :func:`joined_labels`)."""
    col = sample.design_weight
    if col is None:
        return design_weights(stratum, stratum_population(frame, sample, frame_where),
                              with_replacement=sample.with_replacement).weights
    if col not in gross.columns:
        raise WeightingError(f"design weights: column {col!r} (sample.design_weight) is not in the "
                             "gross sample")
    d = pd.to_numeric(gross[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(d) | (d <= 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise WeightingError(f"design weights: {col!r} is {gross[col].iloc[r]!r} in row {r} of the gross "
                             "sample; a design weight (1 / inclusion probability) must be a number > 0")
    return d


def stage_columns(gross: pd.DataFrame, sample: SampleSpec) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The declared PSU labels (text, one array per stage) and fpc values (float, one per
    stage given) of every sampled person. Raises WeightingError for an absent column, a
    PSU without a value, or an fpc that is not a number > 0."""
    psus = []
    for c in sample.psu:  # identifiers only: text of the distinct values, no per-row Python
        if c not in gross.columns:
            raise WeightingError(f"sample.psu: no column {c!r} in the gross sample")
        codes, uniques = pd.factorize(gross[c])
        if (codes < 0).any():
            raise WeightingError(f"sample.psu: {int((codes < 0).sum())} sampled persons have no {c!r} "
                                 f"(first: row {int(np.flatnonzero(codes < 0)[0])}); every sampled person "
                                 "needs the PSU of each stage")
        psus.append(pd.Index(uniques).astype(str).to_numpy(dtype=object)[codes])
    fpcs = []
    for c in sample.fpc:
        if c not in gross.columns:
            raise WeightingError(f"sample.fpc: no column {c!r} in the gross sample")
        f = pd.to_numeric(gross[c], errors="coerce").to_numpy(dtype=float)
        bad = ~(f > 0)
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise WeightingError(f"sample.fpc: {c!r} is {gross[c].iloc[r]!r} in row {r} of the gross sample; "
                                 "give the population size (or sampling fraction) of every stage, > 0")
        fpcs.append(f)
    return psus, fpcs
