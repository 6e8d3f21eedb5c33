"""Questionnaire-aware views of a data frame: the valid view, expression environments,
derived variables.

The valid view is what statistics and expressions see: a variable's declared missing
codes (``Questionnaire.missing_codes_for``) become missing; the raw codes stay available
for ``is_code(x, c)``. Columns are converted lazily, one at a time, so an expression over
3 variables of a 350,000-row, 400-column wave touches 3 columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from sid.spec.expr_nodes import to_array
from sid.spec.questionnaire import Questionnaire


def _codes_for(q: Questionnaire, name: str) -> tuple:
    # A column the spec does not declare (e.g. the key, paradata) has no missing codes.
    return q.missing_codes_for(name) if name in q else ()


def valid_array(values: pd.Series | np.ndarray, codes: tuple) -> np.ndarray:
    """``values`` as an expression column (float64 or object) with ``codes`` set missing."""
    arr = to_array(values)
    if codes and arr.dtype != object:
        arr = np.where(np.isin(arr, np.asarray(codes, dtype=float)), np.nan, arr)
    return arr


class FrameEnv(Mapping[str, np.ndarray]):
    """Read-only mapping column -> array over a DataFrame; ``valid=True`` gives the
    valid view (declared missing codes as NaN), ``valid=False`` the raw codes.

    Each column is converted once per environment (:func:`sid.spec.expr_nodes.to_array`:
    float64, or object text with blanks as None) and cached; so are the ``extra``
    (derived) columns, re-converted only when one is replaced. ``arrays_ready`` tells an
    evaluation that the arrays need no further conversion.
    """

    arrays_ready = True

    def __init__(self, df: pd.DataFrame, q: Questionnaire, *, valid: bool = True) -> None:
        self.df, self.q, self.valid = df, q, valid
        self.extra: dict[str, np.ndarray] = {}  # derived columns, shadowing the frame
        self._cache: dict[str, np.ndarray] = {}
        # name -> (the extra value converted, its conversion)
        self._extra_cache: dict[str, tuple[object, np.ndarray]] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name in self.extra:
            value = self.extra[name]
            hit = self._extra_cache.get(name)
            if hit is None or hit[0] is not value:
                hit = (value, to_array(value))
                self._extra_cache[name] = hit
            return hit[1]
        if name not in self._cache:
            if name not in self.df.columns:
                raise KeyError(name)
            codes = _codes_for(self.q, name) if self.valid else ()
            self._cache[name] = valid_array(self.df[name], codes)
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        return name in self.extra or name in self.df.columns

    def __iter__(self) -> Iterator[str]:
        yield from self.extra
        yield from (c for c in self.df.columns if c not in self.extra)

    def __len__(self) -> int:
        return len(set(self.extra) | set(self.df.columns))


def expression_env(df: pd.DataFrame, q: Questionnaire) -> tuple[FrameEnv, FrameEnv]:
    """``(valid, raw)`` environments over ``df`` for :meth:`Expression.evaluate`::

        valid, raw = expression_env(df, q)
        asked = v.relevant.holds(valid, len(df), codes=raw)
    """
    return FrameEnv(df, q, valid=True), FrameEnv(df, q, valid=False)


def valid_view(df: pd.DataFrame, q: Questionnaire) -> pd.DataFrame:
    """Copy of ``df`` where every declared missing code of a spec variable is NaN."""
    out = df.copy()
    for c in df.columns:
        codes = _codes_for(q, str(c))
        if not codes or not pd.api.types.is_numeric_dtype(df[c].dtype):
            continue
        m = df[c].isin(codes).to_numpy(dtype=bool)
        if m.any():
            out[c] = df[c].mask(m)
    return out


def derive(df: pd.DataFrame, q: Questionnaire) -> pd.DataFrame:
    """Evaluate ``q.derived`` in spec order over ``df`` (the valid view of its variables);
    each derived variable is available to the ones after it.

    Returns a DataFrame (index of ``df``) holding only the derived columns: float64 for
    numbers (NaN missing), object for text. Raises ExpressionError when an expression uses
    a variable that is neither in ``df`` nor derived before it.
    """
    valid, raw = expression_env(df, q)
    n = len(df)
    out: dict[str, np.ndarray] = {}
    for d in q.derived:
        values = d.expr.evaluate(valid, n, codes=raw)
        out[d.name] = values
        valid.extra[d.name] = values
        raw.extra[d.name] = values
    return pd.DataFrame(out, index=df.index, columns=[d.name for d in q.derived])
