"""sid.clean: the raw wave -> the clean wave, with a log of every change.

The raw wave (``DIR/raw``) is never touched; the clean wave can be rebuilt from the raw
wave, the spec and the log (:func:`rebuild_wave`: :func:`sid.clean.log.replay` for the
fieldwork columns, then the register join and derived variables). Missing codes keep their meaning throughout
(don't know, no answer, not applicable, invalid stay distinct codes; estimators see them
as missing through the valid view).

Order of the rules (each later rule sees the earlier ones' result; the order matters):

0. keys (sid.clean.register): every respondent has a key that is in the gross sample,
   the gross sample holds each key once. Otherwise a DataError and nothing is written.
1. duplicates (sid.clean.duplicates): a person returned twice is kept once, the more
   complete record; first, so no rule works on a record that is then dropped.
2. register join: the spec's ``source: register`` variables from the gross sample, so
   routing and register checks can use them.
3. codes (sid.clean.rules.check_codes): a code outside the categories / range and the
   item's missing codes -> invalid (-4) on questionnaire items; system missing on
   variables the invalid code does not apply to (paradata, ``missing: []``).
4. routing (sid.clean.rules.apply_routing): evaluated on the valid view after step 3 (an
   invalid answer routes like a missing one), items in spec order; an answer where the
   item was not applicable -> not applicable (-3). Applicable items left empty are
   flagged.
5. completion (sid.clean.completion): complete / partial / break-off by the AAPOR share
   of applicable items answered, on the routed values.
6. quality flags (sid.clean.quality): speeders, straight-liners, register mismatches,
   failed consistency checks (a variable's ``checks``); records dropped only where the
   spec says ``drop: true`` (logged).
7. derived variables (sid.spec.frame.derive) on the clean values.

Modules: rules, duplicates, completion, quality, register, log (log, summary, replay),
stage (:func:`clean_wave`, :func:`run_clean`).
"""

from sid.clean.log import replay
from sid.clean.stage import CleanResult, clean_wave, rebuild_wave, run_clean

__all__ = ["CleanResult", "clean_wave", "rebuild_wave", "replay", "run_clean"]
