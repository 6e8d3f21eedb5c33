"""AAPOR outcome counts and outcome rates (response, cooperation, refusal, contact).

Reference: The American Association for Public Opinion Research (2023), *Standard
Definitions: Final Dispositions of Case Codes and Outcome Rates for Surveys*, 10th edition,
section "Calculating rates from response distributions". With the outcome classes of
:mod:`sid.spec.dispositions` (I complete, P partial, R refusal and break-off,
NC non-contact, O other, UH and UO unknown eligibility, NE not eligible) and e the
estimated share of eligible cases among the cases of unknown eligibility:

Response rates::

    RR1 = I / ((I+P) + (R+NC+O) + (UH+UO))
    RR2 = (I+P) / ((I+P) + (R+NC+O) + (UH+UO))
    RR3 = I / ((I+P) + (R+NC+O) + e(UH+UO))
    RR4 = (I+P) / ((I+P) + (R+NC+O) + e(UH+UO))
    RR5 = I / ((I+P) + (R+NC+O))
    RR6 = (I+P) / ((I+P) + (R+NC+O))

Cooperation rates::

    COOP1 = I / ((I+P) + R + O)
    COOP2 = (I+P) / ((I+P) + R + O)
    COOP3 = I / ((I+P) + R)
    COOP4 = (I+P) / ((I+P) + R)

Refusal rates::

    REF1 = R / ((I+P) + (R+NC+O) + (UH+UO))
    REF2 = R / ((I+P) + (R+NC+O) + e(UH+UO))
    REF3 = R / ((I+P) + (R+NC+O))

Contact rates::

    CON1 = ((I+P) + R + O) / ((I+P) + R + O + NC + (UH+UO))
    CON2 = ((I+P) + R + O) / ((I+P) + R + O + NC + e(UH+UO))
    CON3 = ((I+P) + R + O) / ((I+P) + R + O + NC)

e is estimated, when asked, by the proportional allocation (CASRO) method AAPOR describes:
the eligible share among the cases whose eligibility is known,
``e = (I+P+R+NC+O) / (I+P+R+NC+O+NE)``, within each row of the table.

All rates are proportions (0-1). Counts may be design-weighted (sum of base weights per
class), which AAPOR allows for samples with unequal selection probabilities; the formulas
are the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sid.errors import DataError, SpecError
from sid.spec.dispositions import OUTCOMES

RATES: tuple[str, ...] = (
    "RR1", "RR2", "RR3", "RR4", "RR5", "RR6",
    "COOP1", "COOP2", "COOP3", "COOP4",
    "REF1", "REF2", "REF3",
    "CON1", "CON2", "CON3",
)  # fmt: skip

#: Rates whose formula uses e.
E_RATES: tuple[str, ...] = ("RR3", "RR4", "REF2", "CON2")

E_PROPORTIONAL = "proportional (CASRO): e = (I+P+R+NC+O)/(I+P+R+NC+O+NE) within the row"


def outcome_counts(
    dispositions: pd.DataFrame,
    by: Sequence[str] = (),
    weight: str | np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Number of cases (or sum of weights) in each AAPOR outcome class, per group.

    ``dispositions`` has one row per case of the gross sample and a column ``outcome``
    holding the class (I, P, R, NC, O, UH, UO, NE; see
    :func:`sid.spec.dispositions.map_dispositions`). ``by`` names the grouping
    columns (none: one overall row); a missing value in a grouping column is a group of its
    own. ``weight`` (a column name or an array, one value per case) gives design-weighted
    counts: the sum of the weights of the cases in the class.

    Returns one row per group: the ``by`` columns, ``n`` (unweighted number of cases), and
    the eight class columns (float; unweighted counts when ``weight`` is None).
    """
    by = list(by)
    for col in [*by, "outcome"]:
        if col not in dispositions.columns:
            raise DataError(f"dispositions: no column {col!r} (columns: {list(dispositions.columns)})")
    code = class_codes(dispositions["outcome"])
    if (code < 0).any():
        bad = dispositions["outcome"][code < 0]
        raise DataError(
            f"dispositions: {int((code < 0).sum())} case(s) have no AAPOR outcome class "
            f"(values {sorted(map(str, bad.unique()))[:5]}): map them with map_dispositions"
        )
    w = _weights(dispositions, weight)
    n = len(dispositions)
    fast = _categorical_groups(dispositions, by) if by else None
    if fast is not None:
        gid, keys = fast
        n_groups = len(keys)
    elif by:
        grouped = dispositions.groupby(by, dropna=False, sort=True, observed=True)
        gid = grouped.ngroup().to_numpy()
        sizes = grouped.size()
        keys = sizes.index.to_frame(index=False)
        n_groups = len(sizes)
    else:
        gid = np.zeros(n, dtype=np.int64)
        keys = pd.DataFrame(index=[0])
        n_groups = 1
    k = len(OUTCOMES)
    flat = gid * k + code
    totals = np.bincount(flat, weights=w, minlength=n_groups * k).reshape(n_groups, k)
    cases = np.bincount(gid, minlength=n_groups)
    out = keys.reset_index(drop=True)
    out["n"] = cases
    for j, name in enumerate(OUTCOMES):
        out[name] = totals[:, j].astype(float)
    return out


def _categorical_groups(df: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame] | None:
    """Group number of every row and the group keys, as ``groupby(by, dropna=False,
    sort=True, observed=True)`` gives them (``ngroup()``, ``size().index``), computed on the
    integer codes when every ``by`` column is categorical (None otherwise).

    Groups are the observed code combinations in lexicographic order of the categories'
    order, a missing value after every category: one mixed-radix integer per row, numbered
    by a bincount over the combinations (a sort when they are many), where pandas' groupby
    hashes each column again on every call.
    """
    cols = [df[c] for c in by]
    if not all(isinstance(c.dtype, pd.CategoricalDtype) for c in cols):
        return None
    radices = [len(c.cat.categories) + 1 for c in cols]  # + 1: the missing value, last
    if float(np.prod(radices, dtype=float)) >= 2.0**62:
        return None
    combined = np.zeros(len(df), dtype=np.int64)
    for c, r in zip(cols, radices, strict=True):
        codes = c.cat.codes.to_numpy().astype(np.int64)
        combined = combined * r + np.where(codes < 0, r - 1, codes)
    size = int(np.prod(radices))
    if size <= 4 * len(df) + 1024:
        # few combinations (origin groups x modes): a counting pass, no sort
        present = np.bincount(combined, minlength=size) > 0
        uniq = np.flatnonzero(present)
        gid = (np.cumsum(present) - 1)[combined]
    else:
        uniq, gid = np.unique(combined, return_inverse=True)
    keys = {}
    rest = uniq
    for name, c, r in reversed(list(zip(by, cols, radices, strict=True))):
        codes = rest % r
        rest = rest // r
        keys[name] = pd.Categorical.from_codes(np.where(codes == r - 1, -1, codes), dtype=c.dtype)
    return gid.reshape(-1).astype(np.int64), pd.DataFrame({name: keys[name] for name in by})


def class_codes(outcome: pd.Series) -> np.ndarray:
    """Position (0-7) of each case's class in OUTCOMES; -1 for a missing or unknown class."""
    classes = pd.Index(list(OUTCOMES))
    if isinstance(outcome.dtype, pd.CategoricalDtype):
        # look up the few categories, then index by the integer codes (no string hashing per case)
        cat_pos = np.append(classes.get_indexer(outcome.cat.categories), -1)
        return cat_pos[outcome.cat.codes.to_numpy()].astype(np.int64)
    return classes.get_indexer(outcome.to_numpy(dtype=object)).astype(np.int64)


def _weights(df: pd.DataFrame, weight: str | np.ndarray | pd.Series | None) -> np.ndarray | None:
    if weight is None:
        return None
    if isinstance(weight, str):
        if weight not in df.columns:
            raise DataError(f"dispositions: weight column {weight!r} not found")
        name, w = weight, df[weight].to_numpy(dtype=float, na_value=np.nan)
    else:
        name, w = "weight", np.asarray(weight, dtype=float)
        if w.shape != (len(df),):
            raise DataError(f"dispositions: weight has shape {w.shape}, expected ({len(df)},)")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError(
            f"dispositions: weight {name!r} is missing, infinite or negative for "
            f"{int(bad.sum())} case(s) (first rows: {list(df.index[bad][:5])}): "
            "give every case of the gross sample its design weight"
        )
    return w


def aapor_rates(
    counts: pd.DataFrame, e: float | str | np.ndarray | pd.Series | None = "estimate"
) -> pd.DataFrame:
    """AAPOR outcome rates RR1-RR6, COOP1-COOP4, REF1-REF3, CON1-CON3 for each row of counts.

    ``counts`` has the columns I, P, R, NC, O, UH, UO, NE (e.g. from :func:`outcome_counts`;
    other columns are kept). ``e``, the eligible share among cases of unknown eligibility:

    * ``"estimate"``: proportional allocation (CASRO), ``e = (I+P+R+NC+O)/(I+P+R+NC+O+NE)``
      computed within each row (AAPOR Standard Definitions 2023);
    * a number in [0, 1]: the same e for every row (e.g. from an external source);
    * an array with one value in [0, 1] per row (NaN: not estimable for that row), e.g.
      e estimated within strata and pooled by :mod:`sid.fieldwork.table`;
    * ``None``: no e; RR3, RR4, REF2 and CON2 are NaN.

    Where a row has no case of unknown eligibility (UH+UO = 0) the term e(UH+UO) is 0
    whatever e is, so RR3 = RR5, RR4 = RR6, REF2 = REF3 and CON2 = CON3 there.

    Returns a copy of ``counts`` with the 16 rates (proportions, formulas in the module
    docstring), ``e``, ``e_method`` (how e was obtained) and ``note``. A rate whose
    denominator is zero is NaN and named in ``note``; no row raises.
    """
    missing = [c for c in OUTCOMES if c not in counts.columns]
    if missing:
        raise DataError(f"outcome counts: columns {missing} missing (need {list(OUTCOMES)})")
    c = {k: counts[k].to_numpy(dtype=float) for k in OUTCOMES}
    neg = np.zeros(len(counts), dtype=bool)
    for v in c.values():
        neg |= ~np.isfinite(v) | (v < 0)
    if neg.any():
        raise DataError(f"outcome counts: negative or missing counts in {int(neg.sum())} row(s)")
    I, P, R, NC, O, UH, UO, NE = (c[k] for k in OUTCOMES)  # noqa: E741, N806
    interviews = I + P
    eligible_nonint = R + NC + O
    unknown = UH + UO
    known_eligible = interviews + eligible_nonint

    notes: list[list[str]] = [[] for _ in range(len(counts))]
    if isinstance(e, str):
        if e != "estimate":
            raise SpecError(f"e={e!r}: give 'estimate', a number in [0, 1], or None")
        e_val = _div(known_eligible, known_eligible + NE)
        method = E_PROPORTIONAL
        for i in np.flatnonzero(np.isnan(e_val)):
            notes[i].append("e not estimable: no case of known eligibility")
    elif e is None:
        e_val = np.full(len(counts), np.nan)
        method = "not given: RR3, RR4, REF2, CON2 not computed"
    elif np.ndim(e) == 0:
        e_num = float(e)
        if not 0.0 <= e_num <= 1.0:
            raise SpecError(
                f"e={e!r} is outside [0, 1]: give the estimated eligible share among the "
                "cases of unknown eligibility"
            )
        e_val = np.full(len(counts), e_num)
        method = f"fixed: e = {e_num:g} (given)"
    else:
        e_val = np.asarray(e, dtype=float)
        if e_val.shape != (len(counts),):
            raise SpecError(f"e has shape {e_val.shape}: give one value per row ({len(counts)})")
        if ((e_val < 0) | (e_val > 1)).any():
            raise SpecError("e: per-row values must lie in [0, 1]")
        method = "given per row"
        for i in np.flatnonzero(np.isnan(e_val)):
            notes[i].append(
                "e not given: no case of unknown eligibility" if unknown[i] == 0
                else "e not estimable: no case of known eligibility"
            )
    # e(UH+UO) is 0 when there are no unknowns, even where e itself is not estimable;
    # with e=None the e-rates stay NaN as documented.
    e_unknown = e_val * unknown
    if e is not None:
        e_unknown = np.where(unknown == 0, 0.0, e_unknown)

    contacted = interviews + R + O
    pairs = {
        "RR1": (I, known_eligible + unknown),
        "RR2": (interviews, known_eligible + unknown),
        "RR3": (I, known_eligible + e_unknown),
        "RR4": (interviews, known_eligible + e_unknown),
        "RR5": (I, known_eligible),
        "RR6": (interviews, known_eligible),
        "COOP1": (I, contacted),
        "COOP2": (interviews, contacted),
        "COOP3": (I, interviews + R),
        "COOP4": (interviews, interviews + R),
        "REF1": (R, known_eligible + unknown),
        "REF2": (R, known_eligible + e_unknown),
        "REF3": (R, known_eligible),
        "CON1": (contacted, contacted + NC + unknown),
        "CON2": (contacted, contacted + NC + e_unknown),
        "CON3": (contacted, contacted + NC),
    }
    out = counts.copy()
    zero_by_row: list[list[str]] = [[] for _ in range(len(counts))]
    for name, (num, den) in pairs.items():
        out[name] = _div(num, den)
        for i in np.flatnonzero(den == 0):
            zero_by_row[i].append(name)
    for i, names in enumerate(zero_by_row):
        if names:
            notes[i].append("zero denominator: " + ", ".join(names))
    out["e"] = e_val
    out["e_method"] = method
    out["note"] = ["; ".join(n) for n in notes]
    return out


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is zero or NaN (no warning)."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    ok = np.isfinite(den) & (den != 0)
    np.divide(num, den, out=out, where=ok)
    return out
