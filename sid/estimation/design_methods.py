"""The estimators of :class:`~sid.estimation.design.Design`, as methods (R: ``svymean``,
``svytotal``, ``svyratio``, ``svyciprop``, ``svyquantile``, ``svyby``, ``svychisq``,
``svytotal`` of a factor, ``svytable``, ``svyvar``, ``svyglm``).

Each method hands the design to the module that computes the estimate; the modules use
the design's public variance interface (``influence_vcov``, ``replicate_vcov``,
``replicate_weights``, ``group_degf``, ``weights``, ``domain``, ``data``). Kept apart
from design.py, which builds designs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sid.estimation import estimators as est
from sid.estimation.intervals import check_level


class EstimatorMethods:
    """Estimator methods shared by every Design (mixed into the class)."""

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

    def count(self, variable: str | Sequence[str], by=None, level: float = 0.95) -> pd.DataFrame:
        """Estimated population count of each category (R ``svytotal(~factor(x))``)."""
        from sid.estimation.counts import count

        return count(self, variable, by, check_level(level, "count"))

    def crosstab(self, row: str, col: str, total: float | None = None) -> pd.DataFrame:
        """Weighted row x col table of the domain (R ``svytable``; ``total``: ``Ntotal``)."""
        from sid.estimation.counts import crosstab

        return crosstab(self, row, col, total)

    def var(self, variable: str, by=None, level: float = 0.95) -> pd.DataFrame:
        """Estimated population variance of ``variable``, with its SE (R ``svyvar``)."""
        from sid.estimation.counts import variance

        return variance(self, variable, by, check_level(level, "var"))

    def glm(self, formula: str, family: str = "gaussian", level: float = 0.95):
        """Survey-weighted GLM (R ``svyglm``): ``formula`` in R syntax (patsy), ``family``
        "gaussian", "binomial", "quasibinomial" or "poisson". Returns a
        :class:`~sid.estimation.glm.SurveyGLM` (``table``, ``coef``, ``vcov``, ``wald``,
        ``predict``, ``predmeans``); SEs Taylor (calibration-aware) or replicate."""
        from sid.estimation.glm import fit_glm

        return fit_glm(self, formula, family, check_level(level, "glm"))

    def chisq(self, row: str, col: str) -> pd.DataFrame:
        """Rao-Scott adjusted Pearson chi-square (R ``svychisq(statistic="F")``)."""
        from sid.estimation.raoscott import rao_scott

        return rao_scott(self, row, col)
