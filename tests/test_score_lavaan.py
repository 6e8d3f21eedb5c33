"""Multi-group CFA (sid.scales.invariance) against R's lavaan 0.6.14 on the Holzinger &
Swineford (1939) data that lavaan ships: one factor over x1, x2, x3, x9, groups = school.

The reference below was computed by this R script (R 4.2.2, lavaan 0.6.14 from Debian's
r-cran-lavaan); sid gets only the moments R computed (covariances with divisor n, as
lavaan's normal likelihood uses) and must reproduce lavaan's chi-square, CFI, RMSEA and
estimates. lavaan's group 1 is Pasteur (first in the data), which fixes the factor
variance and mean there, as sid's first group does.

suppressMessages(library(lavaan))
d <- HolzingerSwineford1939
items <- c("x1", "x2", "x3", "x9")
model <- "f =~ x1 + x2 + x3 + x9"
groups <- levels(factor(d$school))
mom <- lapply(groups, function(g) {
  x <- as.matrix(d[d$school == g, items]); n <- nrow(x)
  list(group = g, n = n, mean = unname(colMeans(x)), cov = unname(cov(x) * (n - 1) / n))
})
fits <- list(
  configural = cfa(model, d, group = "school", std.lv = TRUE, meanstructure = TRUE),
  metric = cfa(model, d, group = "school", std.lv = TRUE, meanstructure = TRUE, group.equal = "loadings"),
  scalar = cfa(model, d, group = "school", std.lv = TRUE, meanstructure = TRUE, group.equal = c("loadings", "intercepts")),
  metric_free_x9 = cfa(model, d, group = "school", std.lv = TRUE, meanstructure = TRUE, group.equal = "loadings", group.partial = "f=~x9")
)
out <- list(groups = groups, moments = mom, lavaan = as.character(packageVersion("lavaan")))
for (nm in names(fits)) {
  f <- fits[[nm]]
  fm <- fitMeasures(f, c("chisq", "df", "cfi", "rmsea", "npar", "baseline.chisq", "baseline.df"))
  pe <- parameterEstimates(f)
  lam <- pe[pe$op == "=~", ]
  phi <- pe[pe$op == "~~" & pe$lhs == "f", ]
  kap <- pe[pe$op == "~1" & pe$lhs == "f", ]
  tau <- pe[pe$op == "~1" & pe$lhs %in% items, ]
  out[[nm]] <- list(fit = as.list(fm),
    loadings = lapply(1:2, function(g) lam$est[lam$group == g]),
    phi = phi$est, kappa = kap$est,
    intercepts = lapply(1:2, function(g) tau$est[tau$group == g]))
}
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE))
"""

from __future__ import annotations

import numpy as np
import pytest

from sid.scales.invariance import fit_multigroup, invariance_tests

LAVAAN = {'groups': ['Grant-White', 'Pasteur'],
 'moments': [{'group': 'Grant-White',
              'n': 145,
              'mean': [4.92988506, 6.2, 1.99568965517241, 5.32720306344828],
              'cov': [[1.3186471089819, 0.414310343344828, 0.533749506034483, 0.573133395536971],
                      [0.414310343344828, 1.22637931034483, 0.478448275862069, 0.28139846662069],
                      [0.533749506034483, 0.478448275862069, 1.07336504161712, 0.395735071566587],
                      [0.573133395536971, 0.28139846662069, 0.395735071566587, 1.0510479881564]]},
             {'group': 'Pasteur',
              'n': 156,
              'mean': [4.94123931326923, 5.98397435897436, 2.48717948717949, 5.41773504230769],
              'cov': [[1.39522951598268, 0.402103192488289, 0.620106704192554, 0.351143028291078],
                      [0.402103192488289, 1.50374958908613, 0.476757684089415, 0.218678096511341],
                      [0.620106704192554, 0.476757684089415, 1.34578916009204, 0.332078335157791],
                      [0.351143028291078, 0.218678096511341, 0.332078335157791, 0.977553066115434]]}],
 'lavaan': '0.6.14',
 'configural': {'fit': {'chisq': 5.99438939208714,
                        'df': 4,
                        'cfi': 0.988692951105481,
                        'rmsea': 0.057558137474327,
                        'npar': 24,
                        'baseline.chisq': 188.384608459062,
                        'baseline.df': 12},
                'loadings': [[0.763925093063385, 0.554357606651325, 0.816496817842272, 0.424552064411721],
                             [0.82461668342782, 0.552138707108926, 0.678735235106879, 0.627262799694979]],
                'phi': [1, 1],
                'kappa': [0, 0],
                'intercepts': [[4.94123931326923, 5.98397435897436, 2.48717948717949, 5.41773504230769],
                               [4.92988506, 6.2, 1.99568965517241, 5.32720306344828]]},
 'metric': {'fit': {'chisq': 9.14276834316752,
                    'df': 7,
                    'cfi': 0.987851727189309,
                    'rmsea': 0.0450993560450558,
                    'npar': 21,
                    'baseline.chisq': 188.384608459062,
                    'baseline.df': 12},
            'loadings': [[0.777440168216514, 0.553356265347318, 0.725112907319746, 0.519059846283692],
                         [0.777440168216514, 0.553356265347318, 0.725112907319747, 0.519059846283692]],
            'phi': [1, 1.06173525975992],
            'kappa': [0, 0],
            'intercepts': [[4.94123931326923, 5.98397435897436, 2.48717948717949, 5.41773504230769],
                           [4.92988506, 6.2, 1.99568965517241, 5.32720306344828]]},
 'scalar': {'fit': {'chisq': 31.7852346682931,
                    'df': 10,
                    'cfi': 0.876490160572319,
                    'rmsea': 0.120313087327417,
                    'npar': 18,
                    'baseline.chisq': 188.384608459062,
                    'baseline.df': 12},
            'loadings': [[0.763532604787205, 0.519309922163905, 0.734054626707852, 0.521742775937642],
                         [0.763532604787205, 0.519309922163905, 0.734054626707852, 0.521742775937642]],
            'phi': [1, 1.07159346836641],
            'kappa': [0, -0.225984662041876],
            'intercepts': [[5.02500852408072, 6.16847787597587, 2.30362213969943, 5.43142695468043],
                           [5.02500852408072, 6.16847787597587, 2.30362213969943, 5.43142695468043]]},
 'metric_free_x9': {'fit': {'chisq': 6.84893758749008,
                            'df': 6,
                            'cfi': 0.995187008691367,
                            'rmsea': 0.0306615429928829,
                            'npar': 22,
                            'baseline.chisq': 188.384608459062,
                            'baseline.df': 12},
                    'loadings': [[0.815955915612885, 0.56911003258587, 0.751117005291893, 0.428442592674887],
                                 [0.815955915612885, 0.56911003258587, 0.751117005291893, 0.644881344749672]],
                    'phi': [1, 0.925066308553931],
                    'kappa': [0, 0],
                    'intercepts': [[4.94123931326923, 5.98397435897436, 2.48717948717949, 5.41773504230769],
                                   [4.92988506, 6.2, 1.99568965517241, 5.32720306344828]]}}


def _moments():
    by = {m["group"]: m for m in LAVAAN["moments"]}
    order = ["Pasteur", "Grant-White"]  # lavaan's group order
    covs = np.array([by[g]["cov"] for g in order])
    means = np.array([by[g]["mean"] for g in order])
    ns = np.array([by[g]["n"] for g in order], dtype=float)
    return covs, means, ns


@pytest.mark.parametrize("level", ["configural", "metric", "scalar"])
def test_fit_and_estimates_match_lavaan_group_equal(level):
    covs, means, ns = _moments()
    res = invariance_tests(covs, means, ns)
    row = res.table.set_index("model").loc[level]
    ref = LAVAAN[level]
    assert row["chisq"] == pytest.approx(ref["fit"]["chisq"], rel=1e-6)
    assert row["df"] == ref["fit"]["df"] and row["npar"] == ref["fit"]["npar"]
    assert row["cfi"] == pytest.approx(ref["fit"]["cfi"], rel=1e-6)
    assert row["rmsea"] == pytest.approx(ref["fit"]["rmsea"], rel=1e-6)
    fit = res.fits[level]
    np.testing.assert_allclose(fit.loadings, ref["loadings"], rtol=1e-5)
    np.testing.assert_allclose(fit.phi, ref["phi"], rtol=1e-5)
    np.testing.assert_allclose(fit.intercepts, ref["intercepts"], rtol=1e-6)
    np.testing.assert_allclose(fit.kappa, ref["kappa"], atol=1e-6)


def test_partial_metric_model_matches_lavaan_group_partial():
    covs, means, ns = _moments()
    base = fit_multigroup(covs, means, ns, "metric")
    fit = fit_multigroup(covs, means, ns, "metric", start_from=base, free_loadings=[3])
    ref = LAVAAN["metric_free_x9"]
    assert fit.chisq == pytest.approx(ref["fit"]["chisq"], rel=1e-6)
    assert fit.df == ref["fit"]["df"] and fit.npar == ref["fit"]["npar"]
    np.testing.assert_allclose(fit.loadings, ref["loadings"], rtol=1e-5)
    np.testing.assert_allclose(fit.phi, ref["phi"], rtol=1e-5)


def test_invariance_by_group_on_the_data_matches_lavaan_chisq(reference_dir):
    """From the raw items (tests/reference/r/lavaan_invariance.R): sid computes the
    moments itself; lavaan's ML uses covariances with divisor n, so must sid's."""
    import json

    import pandas as pd

    from sid.scales.invariance import invariance_by_group

    ref = json.loads((reference_dir / "r" / "lavaan_invariance.json").read_text())
    df = pd.DataFrame(ref["data"])
    res = invariance_by_group(df, ["x1", "x2", "x3", "x9"], "school", item_tests=False)
    table = res.table.set_index("model")
    for level in ("configural", "metric", "scalar"):
        assert table.loc[level, "chisq"] == pytest.approx(ref[level]["chisq"], rel=1e-9), level
        assert table.loc[level, "df"] == ref[level]["df"]
        assert table.loc[level, "rmsea"] == pytest.approx(ref[level]["rmsea"], rel=1e-5), level
