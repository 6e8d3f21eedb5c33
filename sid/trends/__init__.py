"""Waves over time: harmonised estimates per wave and their changes (sid trend, docs/trends.md).

harmonise   a wave's variables recoded onto the harmonisation's concepts and domains
estimate    one wave's estimates of every concept, overall and by domain (Design estimators)
labels      category labels and units from the spec and the waves' questionnaires
compute     trend_table(waves, harmonisation): differences, SEs (independent samples),
            normal CIs and p, break / composition / not-in-wave flags, disclosure
stage       the `sid trend` stage over two or more run folders

Pure functions (all but ``stage``) take Designs and the loaded spec, and return frames::

    from sid.spec.harmonisation import load_harmonisation
    from sid.trends import WaveInput, trend_table
    h = load_harmonisation("questionnaires/harmonisation.yaml", waves=["sid2017", "sid2022"])
    t = trend_table([WaveInput("sid2017", d17, min_n=30), WaveInput("sid2022", d22)], h)
"""

from sid.trends.compute import COLUMNS, WaveInput, difference, pairs, publish, trend_table
from sid.trends.estimate import compositions, wave_estimates
from sid.trends.labels import TrendLabels, trend_labels

__all__ = ["COLUMNS", "TrendLabels", "WaveInput", "compositions", "difference", "pairs", "publish",
           "trend_labels", "trend_table", "wave_estimates"]
