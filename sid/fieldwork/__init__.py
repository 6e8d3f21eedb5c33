"""sid.fieldwork: fieldwork outcome rates per origin group and mode (AAPOR Standard Definitions).

Agency dispositions are mapped to AAPOR final disposition codes (:mod:`sid.spec.dispositions`),
checked against the gross sample and the survey files (:mod:`.checks`, :mod:`.cases`),
counted per outcome class and turned into response, cooperation, refusal and contact rates
(:mod:`.rates`), reported overall, per origin group, per mode and per group x mode
(:mod:`.table`).
"""

from sid.fieldwork.cases import build_cases
from sid.fieldwork.checks import (
    FieldworkWarning,
    check_completes_match,
    check_dispositions_cover_sample,
    check_respondents_in_sample,
    check_unique_keys,
)
from sid.fieldwork.rates import RATES, aapor_rates, outcome_counts
from sid.fieldwork.table import outcome_rates_table
from sid.spec.dispositions import OUTCOMES, aapor_class, map_dispositions, validate_mapping

__all__ = [
    "OUTCOMES",
    "RATES",
    "FieldworkWarning",
    "aapor_class",
    "aapor_rates",
    "build_cases",
    "check_completes_match",
    "check_dispositions_cover_sample",
    "check_respondents_in_sample",
    "check_unique_keys",
    "map_dispositions",
    "outcome_counts",
    "outcome_rates_table",
    "validate_mapping",
]
