"""Linear combinations of estimates with their SEs (R survey's ``svycontrast``).

Every estimator frame of a Design (``mean``, ``total``, ``proportion``, ``ratio``,
``count``, ``var``) carries the covariance of its rows in ``frame.attrs["vcov"]``, a
:class:`Vcov` (R: ``vcov(svyby(..., covmat=TRUE))``): the covariance between domains of
one variable is the design's; between two variables of one call it is not computed
(NaN), so a combination across variables has SE NaN rather than a wrong one. A
:class:`~sid.estimation.glm.SurveyGLM` carries ``coef`` and ``vcov``.

:func:`contrast` takes such a frame (or rows of it, selected with ``query``/``loc``/
``iloc``; the rows are matched by index label and checked against the estimates) or a
model, and a contrast: a vector over the rows (coefficients), a mapping from row label
(or coefficient name) to weight, or a mapping of such contrasts by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import numpy as np
import pandas as pd

from sid.errors import EstimationError
from sid.estimation.intervals import t_interval


class Vcov(str):
    """Covariance of the estimates ``estimate`` (k,) at the frame rows ``index`` (k,), as
    it sits in ``frame.attrs["vcov"]``: ``blocks``, one matrix per variable of the call in
    row order (covariances between blocks are not computed); :attr:`matrix` is the full
    k x k matrix with NaN between blocks, :meth:`sub` the one of some rows.

    A ``str`` whose text is a unique tag ("sid.Vcov:<k>:<uuid>"), so that what pandas does
    with attrs stays safe and cheap: copies and row selections share it (no deep copy),
    ``concat`` of two frames drops it (the tags differ), and writers that store attrs as
    JSON (``to_parquet``) store the tag alone; a frame read back has no covariance.
    """

    blocks: tuple[np.ndarray, ...]
    index: np.ndarray
    estimate: np.ndarray

    def __new__(cls, blocks, index: np.ndarray, estimate: np.ndarray) -> Vcov:
        obj = super().__new__(cls, f"sid.Vcov:{len(estimate)}:{uuid.uuid4().hex}")
        obj.blocks = tuple(np.asarray(b, float) for b in blocks)
        obj.index, obj.estimate = index, estimate
        return obj

    def __deepcopy__(self, memo) -> Vcov:
        return self

    def __reduce__(self):
        return (Vcov, (self.blocks, self.index, self.estimate))

    @property
    def matrix(self) -> np.ndarray:
        """The full covariance (k x k), NaN between blocks."""
        return self.sub(np.arange(self.estimate.shape[0]))

    def sub(self, pos: np.ndarray) -> np.ndarray:
        """Covariance of the rows at positions ``pos`` (NaN between blocks)."""
        sizes = np.array([b.shape[0] for b in self.blocks], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        which = np.searchsorted(np.cumsum(sizes), pos, side="right")
        out = np.full((pos.shape[0], pos.shape[0]), np.nan)
        for b in np.unique(which):  # loop over the variables' blocks
            mine = np.flatnonzero(which == b)
            local = pos[mine] - starts[b]
            out[np.ix_(mine, mine)] = self.blocks[b][np.ix_(local, local)]
        return out

    def block(self, labels: np.ndarray) -> np.ndarray:
        """Positions of ``labels`` among the rows this covariance is of."""
        where = pd.Index(self.index).get_indexer(labels)
        if (where < 0).any():
            raise EstimationError("contrast: some rows are not rows of the estimator's frame; pass the "
                                  "frame (or rows selected from it without re-indexing)")
        return where


def attach(frame: pd.DataFrame, blocks) -> pd.DataFrame:
    """Store the covariance ``blocks`` (one matrix per variable, in row order) of
    ``frame``'s rows in its attrs."""
    frame.attrs["vcov"] = Vcov(blocks, frame.index.to_numpy(), frame["estimate"].to_numpy(dtype=float))
    return frame


def _estimates(result):
    """Estimates, covariance of rows at given positions (a function), row labels and df
    of a frame or a fitted model."""
    if hasattr(result, "coef") and hasattr(result, "vcov") and not isinstance(result, pd.DataFrame):
        V = result.vcov.to_numpy()
        return (result.coef.to_numpy(), lambda idx: V[np.ix_(idx, idx)], list(result.coef.index), float(result.df))
    if not isinstance(result, pd.DataFrame) or not isinstance(result.attrs.get("vcov"), Vcov):
        raise EstimationError("contrast: give an estimator's frame (mean, total, proportion, ...) or a glm; "
                              "this one carries no covariance")
    v: Vcov = result.attrs["vcov"]
    pos = v.block(result.index.to_numpy())
    est = result["estimate"].to_numpy(dtype=float)
    if not np.allclose(est, v.estimate[pos], rtol=0, atol=0, equal_nan=True):
        raise EstimationError("contrast: the frame's estimates no longer match its covariance (re-indexed or "
                              "changed); pass the estimator's frame or rows selected from it")
    df = float(result["df"].min()) if "df" in result else np.inf
    return est, lambda idx: v.sub(pos[idx]), list(result.index), df


def _vector(spec, labels: list, what: str) -> np.ndarray:
    if isinstance(spec, Mapping):
        vec = np.zeros(len(labels))
        for key, weight in spec.items():
            if key not in labels:
                raise EstimationError(f"contrast {what}: {key!r} is not a row or coefficient; "
                                      f"choose from {', '.join(map(str, labels[:12]))}")
            vec[labels.index(key)] = float(weight)
        return vec
    vec = np.asarray(spec, dtype=float).ravel()
    if vec.shape[0] != len(labels):
        raise EstimationError(f"contrast {what}: {vec.shape[0]} coefficients for {len(labels)} estimates")
    return vec


def contrast(result, contrasts, level: float = 0.95, df: float | None = None) -> pd.DataFrame:
    """Linear combinations L theta with SE sqrt(L V L') (R ``svycontrast``): one row per
    contrast (contrast, estimate, se, ci_low, ci_high, df); the t-interval uses ``df``
    (default: the smallest df of the rows, or the model's residual df)."""
    est, cov, labels, own_df = _estimates(result)
    named = contrasts if isinstance(contrasts, Mapping) and all(
        isinstance(v, (Mapping, list, tuple, np.ndarray)) for v in contrasts.values()) else {"contrast": contrasts}
    L = np.vstack([_vector(spec, labels, str(name)) for name, spec in named.items()])
    used = np.flatnonzero((L != 0).any(axis=0))
    sub = cov(used)
    value = L[:, used] @ est[used]
    var = np.einsum("ij,jk,ik->i", L[:, used], sub, L[:, used])
    se = np.sqrt(np.clip(var, 0, None))
    dfv = own_df if df is None else float(df)
    lo, hi = t_interval(value, se, dfv, level)
    return pd.DataFrame({"contrast": list(named), "estimate": value, "se": se, "ci_low": lo, "ci_high": hi,
                         "df": dfv})
