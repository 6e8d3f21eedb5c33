"""Fieldwork outcome of the synthetic wave: a final disposition and a mode per sampled person.

Agency disposition codes (``DISPOSITIONS``; the AAPOR mapping is sid.fieldwork's job):

=============  =====================================================================
COMPLETE       questionnaire completed (web or face-to-face)
PARTIAL        questionnaire started and broken off (trailing items system missing)
REFUSAL        contacted, refused (person or household)
NONCONTACT     eligible, never reached after all visits / reminders
LANGUAGE       contacted, no interview possible for lack of a common language
NOT_ELIGIBLE   moved abroad or deceased since the register extract
UNKNOWN        unknown eligibility (address not found, not visited)
=============  =====================================================================

Response is a chain of logistic models in the register variables (origin group, age
band, sex, region, generation): eligibility, contact, language, cooperation. So
respondents differ from the sample in the frame variables, and since the answers depend
on them too, unweighted estimates are biased in a way the frame variables can correct
(missing at random given the frame; no direct dependence on the answers).

Modes follow SID's sequential mixed-mode design: every sampled person is invited to the
web questionnaire first; web non-respondents get a face-to-face (CAPI) visit. A case's
``mode`` is the mode of its last attempt: the interview mode of respondents; ``web`` for
cases that ended at the invitation (address unknown and never visited, the letter
returned because the person moved abroad or died, an explicit refusal in reply to the
letter, which is honoured without a visit); ``capi`` for the others (non-contact, refusal
or language barrier at the door, ineligibility found at the visit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sid.demo.population import ORIGINS

DISPOSITIONS = {
    "COMPLETE": "Vragenlijst volledig ingevuld",
    "PARTIAL": "Vragenlijst begonnen en afgebroken",
    "REFUSAL": "Contact, weigering",
    "NONCONTACT": "Geen contact na alle pogingen",
    "LANGUAGE": "Contact, geen interview wegens taalprobleem",
    "NOT_ELIGIBLE": "Niet in aanmerking: verhuisd naar het buitenland of overleden",
    "UNKNOWN": "In aanmerking komen onbekend (adres onvindbaar, niet bezocht)",
}
RESPONDED = ("COMPLETE", "PARTIAL")

# effects on the logit scale, per origin in ORIGINS order
_CONTACT_ORIGIN = np.array([0.3, -0.2, -0.2, -0.7, -0.8, -0.5, -0.4])
_LANG_ORIGIN = np.array([-9.0, -0.2, 0.4, 0.8, 0.9, -0.8, 1.3])
_COOP_ORIGIN = np.array([0.35, -0.35, -0.45, -0.30, -0.55, -0.60, -0.15])
_COOP_AGE = np.array([-0.25, -0.45, -0.25, 0.0, 0.25, 0.15])
_WEB_ORIGIN = np.array([0.5, -0.5, -0.6, 0.3, -0.2, -0.3, -0.7])
# shares of cases that end at the web invitation, without a visit
P_REFUSED_BY_LETTER = 0.15  # of refusals
P_INELIGIBLE_BY_LETTER = 0.40  # of not eligible (letter returned: moved abroad, deceased)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def assign_dispositions(sample: pd.DataFrame, rng: np.random.Generator, p_partial: float = 0.04) -> pd.DataFrame:
    """Disposition and mode per person of the gross sample.

    Returns a frame on ``sample.index`` with person_key, stratum, disposition and mode
    (``web`` / ``capi``: the interview mode of respondents, the mode of the last attempt
    of the others; see the module docstring). ``p_partial``: share of the respondents who
    break off.
    """
    n = len(sample)
    o = pd.Categorical(sample["origin"], categories=ORIGINS).codes
    band = sample["age_band"].to_numpy() - 1
    gen = sample["generation"].to_numpy()
    bxl = (sample["region"].to_numpy() == 2).astype(float)
    female = (sample["sex"].to_numpy() == 2).astype(float)
    g1, g2 = (gen == 1).astype(float), (gen == 2).astype(float)
    old = (band == 5).astype(float)
    young = (band <= 1).astype(float)
    u = rng.random((n, 6))

    p_inel = 0.015 + 0.04 * g1 * np.isin(o, [3, 4]) + 0.03 * old
    p_unknown = 0.025 + 0.03 * bxl
    p_contact = _expit(2.5 + _CONTACT_ORIGIN[o] - 0.4 * young - 0.8 * bxl - 0.3 * g1)
    p_lang = _expit(-3.2 + _LANG_ORIGIN[o] + 0.9 * old + 0.8 * (band >= 4) * g1 - 9.0 * (1 - g1))
    p_coop = _expit(0.9 + _COOP_ORIGIN[o] + _COOP_AGE[band] + 0.15 * female - 0.5 * bxl + 0.4 * g2)

    disp = np.full(n, "REFUSAL", dtype=object)
    inel = u[:, 0] < p_inel
    unknown = ~inel & (u[:, 1] < p_unknown)
    eligible = ~inel & ~unknown
    contact = eligible & (u[:, 2] < p_contact)
    lang = contact & (u[:, 3] < p_lang)
    coop = contact & ~lang & (u[:, 4] < p_coop)
    disp[eligible & ~contact] = "NONCONTACT"
    disp[lang] = "LANGUAGE"
    disp[coop] = np.where(u[coop, 5] < p_partial, "PARTIAL", "COMPLETE")
    disp[unknown] = "UNKNOWN"
    disp[inel] = "NOT_ELIGIBLE"

    age = sample["age"].to_numpy()
    p_web = _expit(0.6 + _WEB_ORIGIN[o] - 0.05 * (age - 40) + 0.5 * g2 - 0.3 * g1)
    web = rng.random(n) < p_web
    # drawn after the respondents' modes, so those stay as they were before non-respondents
    # had a mode
    u_end = rng.random(n)
    ended_at_letter = (unknown | inel & (u_end < P_INELIGIBLE_BY_LETTER)
                       | (disp == "REFUSAL") & (u_end < P_REFUSED_BY_LETTER))
    mode = np.where(coop, np.where(web, "web", "capi"),
                    np.where(ended_at_letter, "web", "capi")).astype(object)
    return pd.DataFrame(
        {"person_key": sample["person_key"].to_numpy(), "stratum": sample["stratum"].to_numpy(),
         "disposition": disp, "mode": mode},
        index=sample.index,
    )


DURATION_MEDIAN = {"web": 30.0, "capi": 42.0}  # minutes
DURATION_FLOOR = 0.5  # natural durations never fall below this share of the mode's median
_FIELD = {"web": ("2022-09-19", 91), "capi": ("2022-10-03", 147)}  # start, days of fieldwork


def paradata(mode: np.ndarray, share_answered: np.ndarray, rng: np.random.Generator,
             medians: dict[str, float] | None = None,
             field: dict[str, tuple[str, int]] | None = None) -> pd.DataFrame:
    """Interview date (``datetime64[ns]``) and duration in minutes per respondent.

    Durations are log-normal around the mode's median (sigma 0.3), shortened for
    break-offs in proportion to the share of items answered, and never below
    ``DURATION_FLOOR`` x the median: only injected speeders are fast (sid.demo.defects).
    ``medians``: median minutes per mode (default ``DURATION_MEDIAN``; a mode without
    one, e.g. paper, gets no duration: NaN); ``field``: per mode the first day and the
    number of days of fieldwork (default SID 2022's).
    """
    n = len(mode)
    if medians is None:
        med = np.where(mode == "web", DURATION_MEDIAN["web"], DURATION_MEDIAN["capi"])
    else:
        med = pd.Series(mode, dtype=object).map(medians).to_numpy(dtype=float)
    dur = med * np.exp(0.3 * rng.standard_normal(n)) * np.maximum(share_answered, 0.6)
    dur = np.round(np.maximum(dur, DURATION_FLOOR * med), 1)
    date = np.empty(n, dtype="datetime64[D]")
    for m, (start, days) in (_FIELD if field is None else field).items():  # loop over the modes
        sel = mode == m
        date[sel] = np.datetime64(start) + rng.integers(0, days, int(sel.sum()))
    # nanoseconds, pandas' default unit (sid.io.spss.write_spss writes any unit)
    return pd.DataFrame({"interview_date": date.astype("datetime64[ns]"), "duration_min": dur})
