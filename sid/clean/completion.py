"""Completion status of each returned questionnaire: complete, partial or break-off.

AAPOR (Standard Definitions, 2011 and 2015 editions, on interviews I and P) classifies
a returned questionnaire by the share of *applicable* questions answered "with other than
a refusal or no answer": at least ``complete`` (0.80) is a complete interview (I), at least
``partial`` (0.50) a partial interview (P), below that a break-off. The thresholds and the
items that count come from the spec's ``completion`` block.

Here, on the cleaned values (after routing):

* applicable: the item's ``relevant`` holds (always, without routing) and the value is not
  the not-applicable code;
* answered: applicable, not empty, and not a code meaning ``no_answer``, ``refused`` or
  ``invalid``; "don't know" is an answer (AAPOR counts only refusals and no answers out).

A questionnaire with no applicable item has share 0 and is a break-off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.clean.rules import is_empty
from sid.errors import DataError
from sid.spec.questionnaire import Questionnaire

COMPLETE, PARTIAL, BREAKOFF = "complete", "partial", "break-off"
STATUSES = (COMPLETE, PARTIAL, BREAKOFF)
NOT_ANSWERED = ("no_answer", "refused", "invalid", "not_applicable")


def completion_items(q: Questionnaire, df: pd.DataFrame, where: str = "wave") -> list[str]:
    """The items that count for completion: every variable of the source the spec names
    (``items: questionnaire``), or the listed names. DataError when one is not in ``df``."""
    spec_items = q.completion.items
    if isinstance(spec_items, str):
        names = [v.name for v in q.variables if v.source == spec_items and v.name != q.key]
    else:
        names = list(spec_items)
    lacking = [n for n in names if n not in df.columns]
    if lacking:
        raise DataError(
            f"{where}: {len(lacking)} questionnaire item(s) of the spec are not in the data "
            f"({', '.join(lacking[:5])}); deliver them or correct {q.path or q.wave}"
        )
    return names


def classify_completion(df: pd.DataFrame, q: Questionnaire, items: list[str],
                        applicable: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per record: ``n_applicable``, ``n_answered``, ``answered_share`` (0-1) and ``status``
    (complete / partial / break-off), on ``df``'s index.

    ``applicable``: per routed item, where its condition holds (sid.clean.rules.apply_routing).
    """
    n = len(df)
    n_app = np.zeros(n, dtype=np.int64)
    n_ans = np.zeros(n, dtype=np.int64)
    na_codes = [float(c) for c, m in q.missing_codes.items() if m.meaning == "not_applicable"]
    for name in items:  # loop over items
        s = df[name]
        app = applicable.get(name, np.ones(n, dtype=bool)).copy()
        answered = ~is_empty(s)
        if pd.api.types.is_numeric_dtype(s.dtype):
            x = s.to_numpy(dtype=float, na_value=np.nan)
            app &= ~np.isin(x, na_codes)
            item_codes = set(q.missing_codes_for(name))
            out = [float(c) for c, m in q.missing_codes.items()
                   if m.meaning in NOT_ANSWERED and c in item_codes]
            answered &= ~np.isin(x, out)
        n_app += app
        n_ans += app & answered
    share = np.divide(n_ans, n_app, out=np.zeros(n), where=n_app > 0)
    c, eps = q.completion, 1e-12  # 4 of 5 answered is 0.8 whatever the rounding of 4/5
    status = np.where(share >= c.complete - eps, COMPLETE,
                      np.where(share >= c.partial - eps, PARTIAL, BREAKOFF))
    return pd.DataFrame({"n_applicable": n_app, "n_answered": n_ans, "answered_share": share,
                         "status": status.astype(object)}, index=df.index)
