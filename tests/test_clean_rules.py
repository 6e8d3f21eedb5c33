"""Cleaning rules on a small hand-made wave: every expected log row, flag and status is
written out by hand below (not taken from the code's output)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sid.clean import clean_wave, replay
from sid.clean.log import LOG_COLUMNS
from sid.errors import DataError, SpecError
from sid.io.spss_meta import SpssMeta
from sid.spec.check import load_checked_questionnaire

SPEC = """\
wave: t
title: Test wave
key: pk
mode_variable: mode
modes: {web: "Web", capi: "CAPI"}
missing_codes:
  -1: {meaning: dont_know, label: "Weet niet"}
  -2: {meaning: no_answer, label: "Geen antwoord"}
  -3: {meaning: not_applicable, label: "Niet van toepassing"}
  -4: {meaning: invalid, label: "Ongeldige code"}
completion: {complete: 0.8, partial: 0.5, items: questionnaire}
quality:
  speeders: {duration: dur, modes: [web], ratio_to_median: 0.5, drop: SPEEDER_DROP}
  straightlining: {grids: [g], min_items: 3, drop: false}
  register_mismatch:
    - {answer: q_by, register: by, tolerance: 1}
variables:
  - {name: pk, label: "Sleutel", type: text, source: register}
  - {name: date, label: "Datum", type: date, source: paradata, missing: []}
  - {name: dur, label: "Duur", type: numeric, source: paradata, range: [0, 600], missing: []}
  - {name: by, label: "Geboortejaar (register)", type: numeric, source: register, range: [1900, 2010], missing: []}
  - {name: q_by, label: "Geboortejaar", type: numeric, source: questionnaire, range: [1900, 2010], missing: [-2]}
  - {name: q_work, label: "Werk", type: categorical, source: questionnaire, categories: {1: "Ja", 2: "Nee"}, missing: [-2]}
  - {name: q_job, label: "Job", type: categorical, source: questionnaire, categories: {1: "A", 2: "B", 3: "C"}, missing: [-1, -2, -3], relevant: "q_work == 1"}
  - {name: g1, label: "G1", type: ordinal, source: questionnaire, grid: g, categories: &five {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}, missing: [-1, -2, -3]}
  - {name: g2, label: "G2", type: ordinal, source: questionnaire, grid: g, categories: *five, missing: [-1, -2, -3]}
  - {name: g3, label: "G3", type: ordinal, source: questionnaire, grid: g, categories: *five, missing: [-1, -2, -3]}
derived:
  - {name: age, label: "Leeftijd", type: numeric, expr: "2022 - by"}
"""

NAN = np.nan
# pk, date (2022-10-dd), dur, q_by, q_work, q_job, g1, g2, g3, mode   -- what it tests
RAW_ROWS = [
    ("a", 1, 30.0, 1980, 1, 2, 1, 2, 3, "web"),       # 0 clean, complete
    ("b", 2, 28.0, 1985, 2, 3, 2, 3, 4, "web"),       # 1 q_job answered though q_work=2 -> -3
    ("c", 3, 32.0, 1990, 1, 7, 3, 3, 3, "web"),       # 2 q_job 7 -> -4; straight-lines g
    ("d", 4, 5.0, 1970, 1, 1, 1, 2, 1, "web"),        # 3 speeder (median of web completes 30)
    ("e", 5, 40.0, 1975, 1, NAN, NAN, NAN, NAN, "capi"),  # 4 break-off: 2 of 6 answered
    ("b", 9, 50.0, 1985, 2, 3, 2, 3, 4, "capi"),      # 5 duplicate of 1, same answers, later
    ("f", 1, 30.0, 1960, 1, NAN, NAN, 2, 3, "web"),   # 6 duplicate, less complete -> dropped
    ("f", 20, 35.0, 1960, 1, 2, 1, 2, 3, "capi"),     # 7 duplicate, more complete -> kept
    ("g", 6, 31.0, 1999, -2, -3, 4, 5, 4, "web"),     # 8 q_by 1999 vs register 1995
    ("h", 7, 25.0, 1980, 1, -1, 2, NAN, NAN, "web"),  # 9 partial: 4 of 6 (don't know answers)
    ("i", 8, 900.0, 1950, 2, -3, 5, 4, 5, "capi"),    # 10 duration 900 outside [0, 600] -> empty (paradata: no -4)
]
REGISTER = {"a": 1980, "b": 1985, "c": 1990, "d": 1970, "e": 1975, "f": 1960, "g": 1995,
            "h": 1981, "i": 1950, "z": 1940}  # z: sampled, no response

EXPECTED_LOG = [  # row, key, variable, rule, before, after -- in the order the rules run
    (5, "b", "pk", "duplicate", "capi", "dropped"),
    (6, "f", "pk", "duplicate", "web", "dropped"),
    (10, "i", "dur", "invalid_code", 900.0, NAN),  # paradata: system missing, not -4
    (2, "c", "q_job", "invalid_code", 7.0, -4.0),
    (1, "b", "q_job", "routing", 3.0, -3.0),
]


def make_spec(tmp_path, speeder_drop: bool = False, text: str = SPEC):
    p = tmp_path / "t.yaml"
    p.write_text(text.replace("SPEEDER_DROP", "true" if speeder_drop else "false"), encoding="utf-8")
    return load_checked_questionnaire(p)


def make_raw(rows=RAW_ROWS) -> tuple[pd.DataFrame, SpssMeta]:
    cols = ["pk", "date", "dur", "q_by", "q_work", "q_job", "g1", "g2", "g3", "mode"]
    df = pd.DataFrame(rows, columns=cols)
    df["date"] = pd.to_datetime("2022-09-30") + pd.to_timedelta(df["date"], unit="D")
    for c in cols[2:-1]:
        df[c] = df[c].astype(float)
    df["pk"] = df["pk"].astype("str")
    df["mode"] = df["mode"].astype("str")
    return df, SpssMeta.from_frame(df)


def make_gross(register=REGISTER) -> pd.DataFrame:
    return pd.DataFrame({"pk": list(register), "by": np.array(list(register.values()), float),
                         "design_weight": 10.0})


@pytest.fixture
def cleaned(tmp_path):
    q = make_spec(tmp_path)
    raw, meta = make_raw()
    before = raw.copy()
    res = clean_wave(raw, meta, q, make_gross())
    pd.testing.assert_frame_equal(raw, before)  # the raw wave is never touched
    return q, raw, res


def test_log_rows_written_out_by_hand(cleaned):
    _, _, res = cleaned
    assert list(res.log.columns) == LOG_COLUMNS
    got = [tuple(r) for r in res.log.itertuples(index=False)]
    assert got == EXPECTED_LOG


def test_clean_values_and_missing_codes_kept(cleaned):
    _, _, res = cleaned
    df = res.df
    assert df["pk"].tolist() == ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    assert df["mode"].tolist()[5] == "capi"  # f's more complete (capi) record kept
    assert df["q_job"].tolist()[:3] == [2.0, -3.0, -4.0]
    # other codes keep their meaning: don't know, no answer, not applicable untouched
    assert df.loc[7, "q_job"] == -1.0 and df.loc[6, "q_work"] == -2.0 and df.loc[6, "q_job"] == -3.0
    assert np.isnan(df.loc[8, "dur"])  # paradata out of range: system missing, no invalid code
    assert np.isnan(df.loc[4, "q_job"])  # empty stays empty (flagged, not changed)
    # register variable joined by key, derived variable computed after cleaning
    assert df["by"].tolist() == [1980, 1985, 1990, 1970, 1975, 1960, 1995, 1981, 1950]
    assert df["age"].tolist() == [42, 37, 32, 52, 47, 62, 27, 41, 72]


def test_flags_status_and_quality_by_hand(cleaned):
    _, _, res = cleaned
    f = res.flags
    assert f["pk"].tolist() == res.df["pk"].tolist()
    assert f["status"].tolist() == ["complete", "complete", "complete", "complete", "break-off",
                                    "complete", "complete", "partial", "complete"]
    # b: q_job not applicable -> 5 applicable; c: 5 of 6 (the invalid code is no answer);
    # g: q_work no answer, q_job n/a -> 4 of 5; h: don't know counts as answered -> 4 of 6
    assert f["n_applicable"].tolist() == [6, 5, 6, 6, 6, 6, 5, 6, 5]
    assert f["n_answered"].tolist() == [6, 5, 5, 6, 2, 6, 4, 4, 5]
    assert f["n_empty_applicable"].tolist() == [0, 0, 0, 0, 4, 0, 0, 2, 0]
    assert f.loc[f["speeder"], "pk"].tolist() == ["d"]  # 5 < 0.5 x median(30, 28, 32, 5, 31)
    assert f.loc[f["straightline_g"], "pk"].tolist() == ["c"]
    assert f.loc[f["mismatch_q_by"], "pk"].tolist() == ["g"]  # h is 1 year off: tolerated


def test_summary_counts_by_hand(cleaned):
    _, _, res = cleaned
    s = {(k, r, v): c for k, r, v, c in res.summary.itertuples(index=False)}
    assert s == {
        ("change", "duplicate", "pk"): 2, ("change", "invalid_code", "dur"): 1,
        ("change", "invalid_code", "q_job"): 1, ("change", "routing", "q_job"): 1,
        ("completion", "complete", "status"): 7, ("completion", "partial", "status"): 1,
        ("completion", "break-off", "status"): 1,
        ("flag", "empty_applicable", "q_job"): 1, ("flag", "empty_applicable", "g1"): 1,
        ("flag", "empty_applicable", "g2"): 2, ("flag", "empty_applicable", "g3"): 2,
        ("flag", "speeder", "dur"): 1, ("flag", "straightline", "g"): 1,
        ("flag", "register_mismatch", "q_by"): 1,
    }


def test_replay_of_raw_and_log_equals_clean_wave(cleaned, tmp_path):
    _, raw, res = cleaned
    pd.testing.assert_frame_equal(replay(raw, res.log), res.df[list(raw.columns)])
    # the log as written to log.csv (numbers read back as text) replays the same
    res.log.to_csv(tmp_path / "log.csv", index=False)
    back = pd.read_csv(tmp_path / "log.csv", dtype={"before": str, "after": str, "key": str})
    pd.testing.assert_frame_equal(replay(raw, back), res.df[list(raw.columns)])


def test_replay_rejects_a_log_of_another_wave(cleaned):
    _, raw, res = cleaned
    other = raw.copy()
    other.loc[2, "q_job"] = 6.0
    with pytest.raises(DataError, match="q_job of raw row 2 holds 6, the log says 7 before"):
        replay(other, res.log)


def test_meta_from_spec_declares_invalid_code(cleaned):
    _, _, res = cleaned
    m = res.meta
    assert list(m.variables) == list(res.df.columns)
    declared = m["q_job"].is_missing_code(np.array([-1.0, -2.0, -3.0, -4.0, 1.0, 3.0]))
    assert declared.tolist() == [True, True, True, True, False, False]
    assert m["q_job"].value_labels[-4.0] == "Ongeldige code"
    # paradata and register variables do not take the invalid code (docs/questionnaire-spec.md)
    for name in ("dur", "by"):
        assert not m[name].has_missing and -4.0 not in m[name].value_labels
    assert m["q_job"].label == "Job" and m["age"].label == "Leeftijd"
    # q_job: a 2, b -3, c -4, d 1, e empty, f 2, g -3, h -1, i -3 -> 6 missing in the valid view
    assert m.valid_view(res.df)["q_job"].isna().sum() == 6


def test_invalid_code_only_where_declared_else_system_missing(tmp_path):
    """A questionnaire item with ``missing: []`` gets no invalid code: its out-of-range
    answer becomes system missing; a paradata variable that lists -4 gets -4. Logged both
    ways; the log replays to the clean wave."""
    text = (SPEC.replace('range: [1900, 2010], missing: [-2]}', 'range: [1900, 2010], missing: []}')
            .replace('range: [0, 600], missing: []}', 'range: [0, 600], missing: [-4]}'))
    q = make_spec(tmp_path, text=text)
    assert q.missing_codes_for("q_by") == () and q.missing_codes_for("dur") == (-4,)
    raw, meta = make_raw()
    raw.loc[3, "q_by"] = 1850.0  # d: outside [1900, 2010]
    res = clean_wave(raw, meta, q, make_gross())
    log = {(r.key, r.variable): r.after for r in res.log.itertuples(index=False) if r.rule == "invalid_code"}
    assert log[("i", "dur")] == -4.0 and np.isnan(log[("d", "q_by")])
    df = res.df.set_index("pk")
    assert df.loc["i", "dur"] == -4.0 and np.isnan(df.loc["d", "q_by"])
    assert res.meta["dur"].missing_values == [-4.0] and not res.meta["q_by"].has_missing
    pd.testing.assert_frame_equal(replay(raw, res.log), res.df[list(raw.columns)])


def test_speeders_dropped_when_the_spec_says_so(tmp_path):
    q = make_spec(tmp_path, speeder_drop=True)
    raw, meta = make_raw()
    res = clean_wave(raw, meta, q, make_gross())
    assert "d" not in res.df["pk"].tolist() and "d" not in res.flags["pk"].tolist()
    assert tuple(res.log.iloc[-1]) == (3, "d", "pk", "speeder", "web", "dropped")
    pd.testing.assert_frame_equal(replay(raw, res.log), res.df[list(raw.columns)])


def test_routing_chain_follows_items_routed_before(tmp_path):
    text = SPEC.replace(
        '  - {name: g1, label: "G1"',
        '  - {name: q_boss, label: "Baas", type: categorical, source: questionnaire, '
        'categories: {1: "Ja", 2: "Nee"}, missing: [-2, -3], relevant: "q_job == 1"}\n'
        '  - {name: g1, label: "G1"')
    q = make_spec(tmp_path, text=text)
    rows = [("a", 1, 30.0, 1980, 2, 1, 1, 1, 2, 3, "web"),   # q_work no -> q_job, q_boss out
            ("b", 1, 30.0, 1985, 1, 1, 1, 1, 2, 3, "web"),   # asked all the way
            ("c", 1, 30.0, 1990, 1, 2, 2, 1, 2, 3, "web")]   # q_job 2 -> q_boss out
    df = pd.DataFrame(rows, columns=["pk", "date", "dur", "q_by", "q_work", "q_job", "q_boss",
                                     "g1", "g2", "g3", "mode"])
    df["date"] = pd.to_datetime("2022-10-01")
    for c in df.columns[2:-1]:
        df[c] = df[c].astype(float)
    res = clean_wave(df, SpssMeta.from_frame(df), q, make_gross())
    got = [tuple(r) for r in res.log.itertuples(index=False)]
    assert got == [(0, "a", "q_job", "routing", 1.0, -3.0), (0, "a", "q_boss", "routing", 1.0, -3.0),
                   (2, "c", "q_boss", "routing", 2.0, -3.0)]


def test_routing_needs_the_not_applicable_code_on_the_item(tmp_path):
    text = SPEC.replace('missing: [-1, -2, -3], relevant: "q_work == 1"',
                        'missing: [-1, -2], relevant: "q_work == 1"')
    q = make_spec(tmp_path, text=text)
    raw, meta = make_raw()
    with pytest.raises(SpecError, match="q_job is routed .* lack the not-applicable code -3"):
        clean_wave(raw, meta, q, make_gross())


def test_respondent_without_gross_sample_record_is_a_data_error(tmp_path):
    q = make_spec(tmp_path)
    raw, meta = make_raw()
    reg = {k: v for k, v in REGISTER.items() if k != "e"}
    with pytest.raises(DataError, match="1 respondent key.* no record in the gross sample .*first: e"):
        clean_wave(raw, meta, q, make_gross(reg))


def test_register_key_twice_is_a_data_error(tmp_path):
    q = make_spec(tmp_path)
    raw, meta = make_raw()
    gross = pd.concat([make_gross(), make_gross({"c": 1990})], ignore_index=True)
    with pytest.raises(DataError, match="gross sample: 1 pk value.* more than once .*first: c"):
        clean_wave(raw, meta, q, gross)


def test_record_without_key_is_a_data_error(tmp_path):
    q = make_spec(tmp_path)
    raw, meta = make_raw()
    raw.loc[3, "pk"] = None
    with pytest.raises(DataError, match="1 record.* have no pk .*first rows: 3"):
        clean_wave(raw, meta, q, make_gross())


def test_register_variable_in_the_fieldwork_file_is_a_data_error(tmp_path):
    q = make_spec(tmp_path)
    raw, meta = make_raw()
    raw["by"] = 1980.0
    with pytest.raises(DataError, match="holds register variable.* by, which cleaning takes from"):
        clean_wave(raw, SpssMeta.from_frame(raw), q, make_gross())


def test_invalid_code_needs_a_spec_code_meaning_invalid(tmp_path):
    text = SPEC.replace('  -4: {meaning: invalid, label: "Ongeldige code"}\n', "")
    q = make_spec(tmp_path, text=text)
    raw, meta = make_raw()
    with pytest.raises(SpecError, match="no code with meaning 'invalid'"):
        clean_wave(raw, meta, q, make_gross())


def test_straightliners_dropped_when_the_spec_says_so(tmp_path):
    text = SPEC.replace("min_items: 3, drop: false", "min_items: 3, drop: true")
    q = make_spec(tmp_path, text=text)
    raw, meta = make_raw()
    res = clean_wave(raw, meta, q, make_gross())
    assert tuple(res.log.iloc[-1]) == (2, "c", "pk", "straightline", "web", "dropped")
    assert "c" not in res.df["pk"].tolist()
    pd.testing.assert_frame_equal(replay(raw, res.log), res.df[list(raw.columns)])


def test_consistency_checks_flagged_not_changed(tmp_path):
    text = SPEC.replace(
        'missing: [-1, -2, -3], relevant: "q_work == 1"}',
        'missing: [-1, -2, -3], relevant: "q_work == 1", '
        'checks: [{expr: "q_job != 1 or q_by <= 1980", message: "job A needs age"}]}')
    q = make_spec(tmp_path, text=text)
    raw, meta = make_raw()
    res = clean_wave(raw, meta, q, make_gross())
    # q_job == 1 only for d (born 1970: passes); a record with q_job 1 born 1990 fails
    assert not res.flags["check_q_job_0"].any()
    raw.loc[0, "q_job"] = 1.0  # a: born 1980 -> passes; c: q_job invalid -> not checked
    raw.loc[9, "q_by"] = 1990.0  # h: q_job -1 (don't know) -> not a violation
    raw.loc[3, "q_by"] = 1991.0  # d: q_job 1, born 1991 -> violation
    res = clean_wave(raw, meta, q, make_gross({**REGISTER, "d": 1991, "h": 1990}))
    assert res.flags.loc[res.flags["check_q_job_0"], "pk"].tolist() == ["d"]
    assert ("flag", "check[0]", "q_job", 1) in set(res.summary.itertuples(index=False, name=None))
    assert [tuple(r) for r in res.log.itertuples(index=False)] == EXPECTED_LOG
