"""A defect of paper questionnaires: skip instructions not followed.

A web or face-to-face questionnaire routes by itself; on paper a respondent may answer a
question the instructions told them to skip. The SID 2017 demo injects such answers into
paper (``papi``) interviews, documented in ``defects.csv`` as ``routed_out`` with detail
"paper questionnaire: skip instruction not followed" (cleaning recodes them to the
not-applicable code, as any routed-out answer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.demo.answers import AnswerModel
from sid.demo.defects import _rows

RATE, MINIMUM = 0.03, 3  # share of the complete paper interviews


def paper_routing_errors(survey: pd.DataFrame, complete: np.ndarray, model: AnswerModel,
                         rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """Answer one routed item whose condition is closed, in ``RATE`` of the complete paper
    rows (in place; ``survey`` needs person_key and mode).

    Returns the rows used (so other defects avoid them) and the defect rows.
    """
    n = len(survey)
    mode = survey["mode"].to_numpy()
    items = list(model.routing)
    closed = np.column_stack([survey[p].to_numpy() != c for p, c in model.routing.values()])
    pool = np.flatnonzero(complete & (mode == "papi") & closed.any(axis=1))
    want = min(max(MINIMUM, round(RATE * pool.size)), pool.size)
    rows = np.sort(rng.choice(pool, size=want, replace=False))
    # one closed item per row, at random among the row's closed ones
    pick = np.argmax(np.where(closed[rows], rng.random((rows.size, len(items))), -1.0), axis=1)
    item = np.asarray(items, dtype=object)[pick]
    k = np.array([model.items[i][1] for i in item], dtype=np.int64)
    value = (1 + np.floor(rng.random(rows.size) * k)).astype(float)
    for it in np.unique(item):  # loop over the routed items
        sel = item == it
        survey.loc[survey.index[rows[sel]], it] = value[sel]
    used = np.zeros(n, dtype=bool)
    used[rows] = True
    text = {i: f"paper questionnaire: skip instruction not followed (answered although {p} != {c})"
            for i, (p, c) in model.routing.items()}
    detail = pd.Series(item, dtype=object).map(text).to_numpy(dtype=object)
    doc = _rows(survey["person_key"].to_numpy()[rows], mode[rows], item, "routed_out", value, detail)
    return used, doc
