"""``sid.Design``: the analysts' survey design object, in the grammar of R's ``survey``.

A Design carries the data, the analysis weights, the sampling structure (strata, PSUs
per stage, finite-population corrections), its calibration history and, for a replicate
design, the replicate weights. Estimators (``mean``, ``total``, ``proportion``,
``ratio``, ``quantile``, ``compare``, ``chisq``) return DataFrames with estimate, SE, CI,
cv, unweighted and weighted n, design effect, degrees of freedom and method.
``calibrate``, ``replicate`` and ``subset`` return new designs; the stage indices are
computed once in the constructor and shared by every derived design.

R equivalents: ``svydesign(id=, strata=, weights=, fpc=)``, ``calibrate``/``rake``,
``as.svrepdesign``, ``subset``; options ``survey.lonely.psu`` and ``survey.replicates.mse``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from sid.errors import EstimationError
from sid.estimation import estimators as est
from sid.estimation.blocks import Blocks
from sid.estimation.calvar import GregResidualiser, RakeResidualiser
from sid.estimation.domains import as_list, check_columns
from sid.estimation.frame import (
    added_columns,
    check_weights,
    replicate_constants,
    replicate_weight_matrix,
)
from sid.estimation.intervals import check_level
from sid.estimation.replicates import (
    ReplicateFactors,
    bootstrap_factors,
    jk1_factors,
    jkn_factors,
    replicate_rank,
    replicate_variance,
)
from sid.estimation.stages import build_stages, popsize
from sid.estimation.taylor import LONELY_PSU_RULES, recvar

REPLICATE_TYPES = ("JK1", "JKn", "bootstrap", "subbootstrap")
# R's svrepdesign types: given replicate weights only label the method (the variance is
# scale * sum rscales (theta_r - centre)^2 for every type).
GIVEN_REPLICATE_TYPES = REPLICATE_TYPES + ("BRR", "Fay", "JK2", "ACS", "successive-difference", "other")


@dataclass(frozen=True)
class _Calibration:
    margins: Mapping
    method: str
    bounds: tuple[float, float] | None
    options: Mapping


@dataclass(frozen=True)
class _Replicates:
    type: str
    scale: float
    rscales: np.ndarray
    mse: bool
    weights: np.ndarray
    degf: int
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # group totals of weights


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniq = pd.factorize(values, sort=True)
    return codes.astype(np.int64), np.asarray(uniq)


class Design:
    """A survey design: ``Design(df, weight="pw", strata="stype", psu="dnum", fpc="fpc")``.

    weight: column of analysis weights (None: computed from ``fpc`` as R does for
    ``svydesign`` without weights). strata: stratum column (None: one stratum). psu: the
    cluster column, or a list of columns per stage (None: every row its own PSU). fpc:
    population sizes (counts of PSUs per stratum, or sampling fractions <= 1), a column
    or a list per stage; later stages enter the variance only when their fpc is given.
    lonely_psu: "fail" (default), "adjust", "remove" or "certainty" for strata with one
    PSU, as R's ``options(survey.lonely.psu)``. PSU ids are taken within their stratum
    (and stage-2 ids within their PSU), as R's ``svydesign(nest=TRUE)``.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        weight: str | None = None,
        strata: str | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: str = "fail",
    ) -> None:
        if not isinstance(df, pd.DataFrame):
            raise EstimationError(f"Design needs a pandas DataFrame, got {type(df).__name__}")
        if lonely_psu not in LONELY_PSU_RULES:
            raise EstimationError(f"lonely_psu={lonely_psu!r} is not one of {', '.join(LONELY_PSU_RULES)}")
        psus, fpcs = as_list(psu), as_list(fpc)
        check_columns(df, [c for c in [weight, strata] if c] + psus + fpcs, "Design")
        for col in [c for c in [strata] if c] + psus:
            if df[col].isna().any():
                raise EstimationError(
                    f"Design: design variable {col!r} is missing in row {int(np.flatnonzero(df[col].isna())[0])}; "
                    "every respondent needs a stratum and PSU"
                )
        if len(fpcs) > max(len(psus), 1):
            raise EstimationError(f"Design: {len(fpcs)} fpc columns for {max(len(psus), 1)} stages; give one per stage")
        n = len(df)
        self._data = df
        self.lonely_psu = lonely_psu
        s_codes, s_labels = _codes(df[strata]) if strata else (np.zeros(n, np.int64), np.array(["1"]))
        self._strata = s_codes
        self.has_strata = strata is not None
        stage_clusters = [_codes(df[c])[0] for c in psus] or [np.arange(n, dtype=np.int64)]
        popsizes = [popsize(df, c, s_codes if j == 0 else None, stage_clusters, j)
                    for j, c in enumerate(fpcs)]
        self._stages, sampsize = build_stages(s_codes, s_labels, stage_clusters, popsizes)
        self._psu = self._stages[0].cluster
        self._fpc1 = popsizes[0] if popsizes else None
        if weight is not None:
            w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
        elif popsizes and len(popsizes) == len(stage_clusters):
            w = np.prod([p / s for p, s in zip(popsizes, sampsize, strict=True)], axis=0)
        else:
            raise EstimationError(
                "Design: give weight= (a weight column), or fpc= for every stage so that weights can be computed"
            )
        check_weights(w, f"weight {weight!r}" if weight is not None else "the weights computed from fpc", "Design")
        self.weights = w
        self._base_weights = w
        self._residualisers: tuple = ()
        self._calibrations: tuple[_Calibration, ...] = ()
        self._rep: _Replicates | None = None
        self.domain = np.ones(n, dtype=bool)
        self._degf: int | None = None
        self._group_cache: dict = {}  # by-tuple -> (codes, labels); with_columns prunes it
        # Columns the design's arrays were taken from: with_columns may not replace them.
        self._design_columns = frozenset(c for c in [weight, strata, *psus, *fpcs] if c)

    # ----------------------------------------------------------------- construction
    def _derive(self, **changes) -> Design:
        new = copy.copy(self)
        new._degf = None
        for k, v in changes.items():
            setattr(new, k, v)
        return new

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> pd.DataFrame:
        """The design's data (not copied)."""
        return self._data

    @property
    def method(self) -> str:
        """"taylor" or the replicate type ("JK1", "JKn", "bootstrap", "subbootstrap")."""
        return self._rep.type if self._rep is not None else "taylor"

    @property
    def degf(self) -> int:
        """Degrees of freedom: #PSUs - #strata among rows of positive weight in the domain
        (R ``degf``); for replicate designs the rank of the replicate weights - 1."""
        if self._rep is not None:
            return self._rep.degf
        if self._degf is not None:
            return self._degf
        inset = self.domain & (self.weights != 0)
        n_psu = int(np.count_nonzero(np.bincount(self._psu[inset])))
        n_str = int(np.count_nonzero(np.bincount(self._strata[inset])))
        self._degf = int(n_psu - n_str)
        return self._degf

    # ----------------------------------------------------------------- variance plumbing
    def _taylor_vcov(self, U) -> np.ndarray:
        """Covariance of influence columns U (n x k, times final weights; dense or sparse),
        calibration-aware. One calibration of sparse U: its residuals enter as a low-rank
        correction (no n x k dense array); several chained calibrations: dense residuals."""
        if sp.issparse(U) and len(self._residualisers) <= 1:
            blocks = Blocks.of(U)
            corr = self._residualisers[0].correction(U, blocks) if self._residualisers else None
            return recvar(U, self._stages, self.lonely_psu, corr, blocks)
        if sp.issparse(U):
            U = U.toarray()
        for resid in self._residualisers:
            U = resid(U)
        return recvar(U, self._stages, self.lonely_psu)

    def _rep_vcov(self, thetas: np.ndarray, theta: np.ndarray) -> np.ndarray:
        r = self._rep
        return replicate_variance(thetas, theta, r.scale, r.rscales, r.mse)

    def _variance_args(self) -> dict:
        if self._rep is None:
            return {"variance": self._taylor_vcov}
        return {"variance": None, "repweights": self._rep.weights, "replicate_variance": self._rep_vcov,
                "rep_cache": self._rep.cache}

    # ----------------------------------------------------------------- new designs
    def subset(self, mask) -> Design:
        """Domain design: rows where ``mask`` is False contribute zero but stay in the design."""
        if pd.isna(np.asarray(mask, dtype=object)).any():
            raise EstimationError("subset: the mask has missing values; give True/False for every row")
        m = np.asarray(mask, dtype=bool)
        if m.shape != self.domain.shape:
            raise EstimationError(f"subset: mask has {m.shape[0]} values for {self.domain.shape[0]} rows")
        return self._derive(domain=self.domain & m)

    def calibrate(
        self,
        margins: Mapping[str, Mapping | float],
        method: str = "linear",
        bounds: tuple[float, float] | None = None,
        **options,
    ) -> Design:
        """New design calibrated to ``margins`` (sid.weighting.calibration does the solving).

        method "linear", "raking" or "logit" (with ``bounds`` on g = w/d). Taylor SEs use
        the residuals of the calibration model (R's calibrate); raking on categorical
        margins only uses R's ``rake()`` residuals (iterated post-stratification). A
        replicate design re-calibrates every replicate weight column.
        """
        from sid.weighting.calibration import calibrate, calibration_matrix, calibration_system
        from sid.weighting.margins import categorical_codes

        X, totals, names = calibration_matrix(self._data, margins)
        system = calibration_system(X, totals, names)  # set up once: full sample and replicates
        res = calibrate(self.weights, None, None, method=method, bounds=bounds, system=system, **options)
        spec = _Calibration(dict(margins), method, bounds, dict(options))
        if method == "raking" and all(isinstance(v, Mapping) for v in margins.values()):
            resid = RakeResidualiser.build(categorical_codes(X, len(margins)), res.weights)
        else:
            resid = GregResidualiser.build(X, self.weights, res.weights)
        rep = self._rep
        if rep is not None:
            rw = calibrate(rep.weights, None, None, method=method, bounds=bounds, system=system, **options).weights
            rep = _Replicates(rep.type, rep.scale, rep.rscales, rep.mse, rw, rep.degf)
        return self._derive(
            weights=res.weights, _residualisers=self._residualisers + (resid,),
            _calibrations=self._calibrations + (spec,), _rep=rep,
        )

    @classmethod
    def calibrated(
        cls,
        df: pd.DataFrame,
        weight: str = "weight",
        prior: str = "prior_weight",
        margins: Mapping[str, Mapping | float] | None = None,
        method: str = "raking",
        bounds: tuple[float, float] | None = None,
        strata: str | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: str = "fail",
        tol: float = 1e-6,
    ) -> Design:
        """A design whose final weights ``weight`` were calibrated elsewhere (the weight stage).

        ``prior``: the weights before calibration (after non-response adjustment);
        ``weight``: the final weights, which must meet ``margins`` (same form as for
        :meth:`calibrate`, e.g. ``{"stratum:sex": {"MA:1": 5300.0, ...}}``) to ``tol``
        relative to each total. Nothing is re-solved: trimmed and re-calibrated weights
        are taken as they are. Taylor SEs use the residuals of the calibration model with
        prior and final weights (Deville & Särndal 1992; R's ``calibrate``, which keeps
        ``qr(X sqrt(w0))``: the GREG residualiser of :meth:`calibrate`, for every
        method). ``replicate()`` on this design re-solves the calibration from ``prior``
        on every replicate column (trimming is not redone there; the weight stage's own
        replicate weights do redo it). Raises EstimationError when a margin is missed.
        """
        from sid.errors import WeightingError
        from sid.weighting.calibration import calibration_matrix

        if not margins:
            raise EstimationError("Design.calibrated: give the margins the weights were calibrated to")
        base = cls(df, weight=prior, strata=strata, psu=psu, fpc=fpc, lonely_psu=lonely_psu)
        check_columns(df, [weight], "Design.calibrated")
        final = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
        check_weights(final, f"weight {weight!r}", "Design.calibrated")
        try:
            X, totals, names = calibration_matrix(df, margins)
        except WeightingError as exc:
            raise EstimationError(f"Design.calibrated: {exc}") from None
        got = np.asarray(X.T @ final)
        err = np.abs(got - totals) / np.maximum(np.abs(totals), 1.0)
        if err.max() > tol:
            j = int(np.argmax(err))
            raise EstimationError(
                f"Design.calibrated: weight {weight!r} misses margin {names[j]!r} "
                f"(population total {totals[j]:.10g}, weighted {got[j]:.10g}); "
                "these are not the weights calibrated to these margins"
            )
        resid = GregResidualiser.build(X, base.weights, final)
        spec = _Calibration(dict(margins), method, bounds, {})
        return base._derive(weights=final, _residualisers=(resid,), _calibrations=(spec,),
                            _design_columns=base._design_columns | {weight})

    @classmethod
    def from_replicate_weights(
        cls,
        df: pd.DataFrame,
        weight: str,
        replicate_weights: np.ndarray | Sequence[str],
        *,
        scale: float,
        rscales: float | Sequence[float] | np.ndarray = 1.0,
        mse: bool = False,
        type: str = "bootstrap",
    ) -> Design:
        """A design of given replicate weights (R ``svrepdesign(weights=, repweights=,
        scale=, rscales=, mse=, type=)`` with ``combined.weights=TRUE``).

        ``weight``: column of full-sample weights; ``replicate_weights``: an (n x R) array
        or the names of R columns, full replicate weights (not factors) in row order.
        Estimators then use var = scale * sum_r rscales_r (theta_r - c)^2 with c the mean
        of the replicate estimates, or the full-sample estimate when ``mse`` (Lumley,
        survey ``svrVar``). ``type`` labels the method (one of GIVEN_REPLICATE_TYPES).
        Degrees of freedom: rank of the replicate weights over rows of positive weight - 1
        (R's ``degf``). ``calibrate`` re-calibrates every replicate column.
        """
        what = "Design.from_replicate_weights"
        if type not in GIVEN_REPLICATE_TYPES:
            raise EstimationError(f"{what}: type {type!r} is not one of {', '.join(GIVEN_REPLICATE_TYPES)}")
        base = cls(df, weight=weight)
        W = replicate_weight_matrix(df, replicate_weights, what)
        s, rs = replicate_constants(scale, rscales, W.shape[1], what)
        degf = replicate_rank(W, np.flatnonzero(base.weights > 0)) - 1
        rep = _Replicates(type, s, rs, bool(mse), W, degf)
        columns = base._design_columns | (set() if isinstance(replicate_weights, np.ndarray)
                                          else set(replicate_weights))
        return base._derive(_rep=rep, _design_columns=frozenset(columns))

    def with_columns(self, columns: pd.DataFrame | Mapping[str, object]) -> Design:
        """The same design (weights, strata, PSUs, calibration, replicates, domain) with
        analysis columns added or replaced, aligned by row position (a DataFrame's index
        is ignored). The design's own weight/strata/PSU/fpc columns cannot be replaced.
        """
        data, given = added_columns(self._data, columns, set(self._design_columns))
        cache = {k: v for k, v in self._group_cache.items() if not given.intersection(k)}
        return self._derive(_data=data, _group_cache=cache)

    def replicate(
        self,
        type: str = "JK1",
        replicates: int = 50,
        seed: int | None = None,
        mse: bool = False,
    ) -> Design:
        """Replicate-weight design (R ``as.svrepdesign``): "JK1", "JKn", "bootstrap"
        (Canty-Davison) or "subbootstrap" (Rao-Wu); ``replicates``/``seed`` for bootstraps;
        ``mse`` centres the variance at the full-sample estimate. The stage-1 fpc enters
        the jackknife scales; the bootstraps resample PSUs with replacement and do not use
        it (as R's ``subbootweights``). Calibrations of this design are redone on every
        replicate column (R: calibrate/rake on an svyrep.design).
        """
        if type not in REPLICATE_TYPES:
            raise EstimationError(f"replicate: type {type!r} is not one of {', '.join(REPLICATE_TYPES)}")
        if self._rep is not None:
            raise EstimationError("replicate: the design already has replicate weights")
        strata_labels = self._strata
        if type == "JK1":
            if self.has_strata:
                raise EstimationError("replicate: JK1 is for unstratified designs; use type='JKn'")
            rf: ReplicateFactors = jk1_factors(self._psu, self._fpc1)
        elif type == "JKn":
            if not self.has_strata:
                raise EstimationError("replicate: JKn needs strata; use type='JK1' for an unstratified design")
            rf = jkn_factors(strata_labels, self._psu, self._fpc1, self.lonely_psu)
        else:
            rf = bootstrap_factors(strata_labels, self._psu, replicates, np.random.default_rng(seed), method=type)
        degf = replicate_rank(rf.factors, np.unique(self._psu, return_index=True)[1]) - 1
        rw = rf.factors
        rw *= self._base_weights[:, None]  # in place: one n x R array, not two
        rep = _Replicates(type, rf.scale, rf.rscales, mse, rw, degf)
        new = self._derive(weights=self._base_weights, _residualisers=(), _calibrations=(), _rep=rep)
        for c in self._calibrations:
            new = new.calibrate(c.margins, c.method, c.bounds, **c.options)
        return new

    # ----------------------------------------------------------------- estimators
    def mean(self, variable: str | Sequence[str], by=None, level: float = 0.95) -> pd.DataFrame:
        """Weighted mean of a numeric ``variable`` (R ``svymean``/``svyby``). A list of
        variables gives one frame, variable after variable, as separate calls (each
        variable's missing rows left out of its own estimate), computed in one pass."""
        return est.mean(self, variable, by, check_level(level, "mean"))

    def total(self, variable: str | Sequence[str], by=None, level: float = 0.95) -> pd.DataFrame:
        """Weighted total of a numeric ``variable`` (R ``svytotal``); a list as ``mean``."""
        return est.total(self, variable, by, check_level(level, "total"))

    def ratio(self, numerator: str, denominator: str, by=None, level: float = 0.95) -> pd.DataFrame:
        """Ratio of totals numerator/denominator (R ``svyratio``)."""
        return est.ratio(self, numerator, denominator, by, check_level(level, "ratio"))

    def proportion(self, variable: str | Sequence[str], by=None, ci: str = "logit",
                   level: float = 0.95) -> pd.DataFrame:
        """Share of each category of ``variable``; ci "logit" (R svyciprop) or "korn-graubard";
        a list of variables as ``mean``."""
        return est.proportion(self, variable, by, ci, check_level(level, "proportion"))

    def quantile(self, variable: str, q=0.5, by=None, level: float = 0.95) -> pd.DataFrame:
        """Quantile(s) ``q`` with Woodruff intervals (R ``svyquantile``, survey 4.x defaults)."""
        from sid.estimation.quantile import quantile

        return quantile(self, variable, q, by, check_level(level, "quantile"))

    def compare(self, variable: str, by, reference=None, level: float = 0.95) -> pd.DataFrame:
        """Differences of domain means from the ``reference`` domain, with design-based t-tests."""
        return est.compare(self, variable, by, reference, check_level(level, "compare"))

    def chisq(self, row: str, col: str) -> pd.DataFrame:
        """Rao-Scott adjusted Pearson chi-square (R ``svychisq(statistic="F")``)."""
        from sid.estimation.raoscott import rao_scott

        return rao_scott(self, row, col)

    def __repr__(self) -> str:
        return (f"Design(n={len(self._data)}, stages={len(self._stages)}, strata={self.has_strata}, "
                f"method={self.method!r}, calibrations={len(self._calibrations)}, lonely_psu={self.lonely_psu!r})")
