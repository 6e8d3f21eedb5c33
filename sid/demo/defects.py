"""Fieldwork defects injected into the synthetic wave, each documented in ``defects.csv``.

One row per injected defect: ``person_key, mode, variable, defect, injected_value,
detail``. Defects (each on its own respondents, drawn from complete interviews, except
break-offs, which are the PARTIAL dispositions):

* ``breakoff``: the questionnaire stops; ``variable`` is the first item left system
  missing, every later questionnaire item is system missing too.
* ``out_of_range``: a code that is neither a category nor a declared missing code.
* ``routed_out``: a valid answer to an item whose routing condition is false (``variable``
  is the item; the routing item holds the closing answer).
* ``duplicate``: a web respondent also present in the capi file (a second, face-to-face
  copy of the same interview; ``variable`` is person_key).
* ``speeder``: web duration below 0.25 x the web median (natural durations stay above
  0.5 x the median: sid.demo.fieldwork.DURATION_FLOOR).
* ``straightline``: every item of a quality grid gets the same code (``variable`` is the
  grid name; natural answers are never straight-lined: sid.demo.answers).
* ``register_mismatch``: self-reported sex differs from the register, or birth year
  differs by 3 years or more (tolerance in the spec: 1 year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.demo.answers import SID2022, AnswerModel

COLUMNS = ["person_key", "mode", "variable", "defect", "injected_value", "detail"]
RATES = {  # share of respondents (speeders: of web respondents), minimum count
    "out_of_range": (0.004, 5), "routed_out": (0.004, 6), "duplicate": (0.0005, 2),
    "speeder": (0.01, 5), "straightline": (0.006, 4), "register_mismatch": (0.003, 4),
}


def _rows(keys, mode, variable, defect, value, detail) -> pd.DataFrame:
    n = len(keys)
    full = [np.broadcast_to(np.asarray(v, dtype=object), n) for v in (keys, mode, variable, defect, value, detail)]
    return pd.DataFrame(dict(zip(COLUMNS, full, strict=True)))


OUT_OF_RANGE = (7.0, 8.0, 9.0, 99.0)  # SID 2022: codes above every item's categories


def breakoffs(survey: pd.DataFrame, partial: np.ndarray, items: list[str], rng: np.random.Generator,
              grids: dict[str, list[str]] | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Blank the trailing questionnaire ``items`` of the ``partial`` rows (in place).

    Returns the share of items kept per row (1 for complete rows) and the defect rows.
    The break-off point keeps 30 % to 90 % of the items, never stopping inside a quality grid.
    """
    m = len(items)
    rows = np.flatnonzero(partial)
    # never stop inside a quality grid: a cut grid could become an unplanned straight line
    grid_of = {i: g for g, its in (SID2022.grids if grids is None else grids).items() for i in its}
    allowed = [k for k in range(int(0.3 * m), int(0.9 * m) + 1)
               if grid_of.get(items[k - 1]) is None or grid_of.get(items[k - 1]) != grid_of.get(items[k])]
    keep = rng.choice(np.asarray(allowed), rows.size)
    x = survey[items].to_numpy(dtype=float, copy=True)
    blank = np.arange(m)[None, :] >= keep[:, None]
    x[rows] = np.where(blank, np.nan, x[rows])
    survey[items] = x
    share = np.ones(len(survey))
    share[rows] = keep / m
    first = np.asarray(items, dtype=object)[keep]
    detail = np.char.add(np.char.add("kept the first ", keep.astype(str)), f" of {m} questionnaire items; the rest system missing")
    doc = _rows(survey["person_key"].to_numpy()[rows], survey["mode"].to_numpy()[rows], first, "breakoff", "", detail)
    return share, doc


def inject(survey: pd.DataFrame, complete: np.ndarray, rng: np.random.Generator,
           model: AnswerModel = SID2022, out_of_range: tuple[float, ...] = OUT_OF_RANGE,
           rates: dict[str, tuple[float, int]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inject every defect but break-offs into ``survey`` (in place; needs a ``mode``).

    ``complete``: rows that may receive a defect. ``model``: the wave's items, routing and
    grids; ``out_of_range``: the codes injected outside the categories (none of them a
    category or missing code of the wave); ``rates``: RATES by default. Returns
    ``(duplicates, doc)``: the extra capi rows of duplicated respondents, and the defect
    rows (COLUMNS).
    """
    ITEMS, ROUTING, GRIDS = model.items, model.routing, model.grids
    RATES_ = RATES if rates is None else rates
    n = len(survey)
    key, mode = survey["person_key"].to_numpy(), survey["mode"].to_numpy()
    free = complete.copy()
    docs = []

    def take(kind: str, extra: np.ndarray | None = None, split: int = 1) -> np.ndarray:
        """Draw rows for ``kind`` from the free rows (within ``extra``); ``split``: share
        the kind's count over that many sub-kinds."""
        rate, minimum = RATES_[kind]
        pool = free if extra is None else free & extra
        base = int((free & (mode == "web")).sum()) if kind == "speeder" else n
        want = min(max(-(-minimum // split), round(rate * base / split)), int(pool.sum()))
        rows = rng.choice(np.flatnonzero(pool), size=want, replace=False)
        free[rows] = False
        return np.sort(rows)

    # out of range: a code outside the item's categories (out_of_range; SID 2022: 7, 8, 9 or 99)
    # not on routed items (would mix with routing) nor quality grids (a grid with an
    # invalid code set missing could become a straight line)
    in_grid = {i for its in GRIDS.values() for i in its}
    simple = [i for i in ITEMS if i not in ROUTING and i not in in_grid]
    rows = take("out_of_range")
    item = rng.choice(np.asarray(simple, dtype=object), rows.size)
    value = rng.choice(list(out_of_range), rows.size)
    for it in np.unique(item):  # loop over items
        sel = rows[item == it]
        survey.loc[survey.index[sel], it] = value[item == it]
    docs.append(_rows(key[rows], mode[rows], item, "out_of_range", value, "code outside the item's categories and missing codes"))

    # routed out: split over the routing conditions
    for it, (parent, code) in ROUTING.items():  # loop over 5 routed items
        closed = survey[parent].to_numpy() != code
        rows = take("routed_out", closed, split=len(ROUTING))
        k = ITEMS[it][1]
        value = rng.integers(1, k + 1, rows.size).astype(float)
        survey.loc[survey.index[rows], it] = value
        docs.append(_rows(key[rows], mode[rows], it, "routed_out", value, f"answered although {parent} != {code}"))

    # speeders: web only
    web = mode == "web"
    median = float(np.median(survey["duration_min"].to_numpy()[web]))
    rows = take("speeder", web)
    value = np.round(median * rng.uniform(0.08, 0.25, rows.size), 1)
    survey.loc[survey.index[rows], "duration_min"] = value
    docs.append(_rows(key[rows], mode[rows], "duration_min", "speeder", value, f"duration below 0.25 x the web median ({median:g} min)"))

    # straight-lines on a quality grid
    rows = take("straightline")
    grid_names = np.asarray(list(GRIDS), dtype=object)
    grid = rng.choice(grid_names, rows.size)
    tops = np.array([model.grid_top(g) for g in grid], dtype=np.int64)
    # one top for every grid (SID 2022: 5) draws as before; else each row its grid's top
    high = int(tops[0]) + 1 if tops.size and (tops == tops[0]).all() else tops + 1
    value = rng.integers(1, high, rows.size).astype(float)
    for g in grid_names:  # loop over 2 grids
        sel = grid == g
        survey.loc[survey.index[rows[sel]], GRIDS[g]] = np.repeat(value[sel][:, None], len(GRIDS[g]), axis=1)
    detail = pd.Series(grid, dtype=object).map({g: "same code on " + ", ".join(its) for g, its in GRIDS.items()})
    docs.append(_rows(key[rows], mode[rows], grid, "straightline", value, detail.to_numpy(dtype=object)))

    # register mismatch: sex flipped, or birth year 3-12 years off (towards the middle)
    rows = take("register_mismatch")
    on_sex = rng.random(rows.size) < 0.5
    sex_rows, by_rows = rows[on_sex], rows[~on_sex]
    sex_val = 3.0 - survey["q_sex"].to_numpy()[sex_rows]
    survey.loc[survey.index[sex_rows], "q_sex"] = sex_val
    by = survey["q_birth_year"].to_numpy()[by_rows]
    by_val = by + np.where(by <= 1990, 1, -1) * rng.integers(3, 13, by_rows.size)
    survey.loc[survey.index[by_rows], "q_birth_year"] = by_val
    docs.append(_rows(key[sex_rows], mode[sex_rows], "q_sex", "register_mismatch", sex_val, "self-reported sex differs from the register"))
    docs.append(_rows(key[by_rows], mode[by_rows], "q_birth_year", "register_mismatch", by_val, "self-reported birth year 3+ years off the register"))

    # duplicates: a web interview present a second time in the capi file
    rows = take("duplicate", web)
    dup = survey.iloc[rows].copy()
    dup["mode"] = "capi"
    dup["duration_min"] = np.round(dup["duration_min"].to_numpy() * 1.3, 1)
    dup["interview_date"] = dup["interview_date"] + pd.to_timedelta(rng.integers(7, 41, rows.size), unit="D")
    docs.append(_rows(key[rows], "capi", "person_key", "duplicate", "capi", "web respondent present a second time in the capi file"))

    doc = pd.concat(docs, ignore_index=True)
    return dup, doc
