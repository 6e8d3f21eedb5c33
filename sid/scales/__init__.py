"""sid.scales: index scores and their reliability (the ``score`` stage of DESIGN.md).

* :mod:`~sid.scales.moments` - item covariances/correlations with missing values and
  weights (pairwise or complete cases; masked matrix products);
* :mod:`~sid.scales.factor` - one-factor minres model, omega total, factor scores;
* :mod:`~sid.scales.reliability` - :func:`reliability` (psych ``alpha``/``omega``,
  ``survey::svycralpha``) and the per-group tables with flags;
* :mod:`~sid.scales.scoring` - reflection, k-of-n scoring rules, POMP and z scales;
* :mod:`~sid.scales.comparability` - loadings per group side by side, with flags;
* :mod:`~sid.scales.index` - one spec index end to end (:func:`compute_index`).

Nothing is re-exported here: ``sid.scales.reliability`` stays the module (the
function is ``sid.reliability``).
"""
