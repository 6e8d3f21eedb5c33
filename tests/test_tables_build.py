"""build_tables through open_wave on run folders: figures against R's survey package
(apistrat, survey_reference.json) and against hand computations with numpy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sid.io.spss_meta import SpssMeta
from sid.io.wave import save_wave_files
from sid.runfolder.wave import open_wave
from sid.tables.build import COLUMNS, build_tables
from sid.tables.disclosure import publish
from sid.tables.labels import Labels
from sid.tables.plan import parse_plan

RTOL = 1e-8
API_LABELS = Labels(
    variables={"api00": "API 2000", "sch.wide": "School-wide target met", "stype": "School type"},
    categories={"stype": {"E": "Elementary", "H": "High", "M": "Middle"}, "sch.wide": {"No": "nee", "Yes": "ja"}},
    kinds={"api00": "numeric", "sch.wide": "categorical", "stype": "categorical"},
)


def _api_run(tmp: Path, ref_dir: Path, replicates: bool = False) -> pd.DataFrame:
    """A run folder of apistrat: clean wave, weights (pw, stratum stype, fpc), and, if
    asked, stratified delete-one jackknife replicate weights built here by hand."""
    api = pd.read_csv(ref_dir / "apistrat.csv")
    api["person_key"] = api["cds"].astype(str)
    clean = api[["person_key", "stype", "api00", "sch.wide", "awards", "enroll"]]
    (tmp / "clean").mkdir(parents=True)
    save_wave_files(clean, SpssMeta.from_frame(clean), tmp / "clean")
    (tmp / "weight").mkdir()
    pd.DataFrame({"person_key": api["person_key"], "weight": api["pw"], "stratum": api["stype"],
                  "fpc": api["fpc"]}).to_parquet(tmp / "weight" / "weights.parquet")
    diag: dict = {"design": {"key": "person_key", "strata": "stratum", "fpc": "fpc"}}
    if replicates:
        s = api["stype"].to_numpy()
        n = len(api)
        n_h = pd.Series(s).map(pd.Series(s).value_counts()).to_numpy(float)
        # replicate j deletes respondent j; others of its stratum get n_h/(n_h-1)
        same = s[:, None] == s[None, :]
        F = np.where(same, (n_h / (n_h - 1))[None, :], 1.0)
        F[np.arange(n), np.arange(n)] = 0.0
        W = F * api["pw"].to_numpy()[:, None]
        rep = pd.DataFrame(W, columns=[f"rep_{j + 1:03d}" for j in range(n)])
        rep.insert(0, "person_key", api["person_key"])
        rep.to_parquet(tmp / "weight" / "replicates.parquet")
        rscales = (1 - n_h / api["fpc"].to_numpy()) * (n_h - 1) / n_h
        diag["replicates"] = {"method": "JKn", "scale": 1.0, "rscales": rscales.tolist(), "mse": False}
    (tmp / "weight" / "diagnostics.json").write_text(json.dumps(diag))
    return api


API_PLAN = """
wave: api
defaults: {min_n: 30, max_cv: 0.3, variance: taylor}
tables:
  - id: api
    theme: language
    title: API by school type
    variables: [api00]
    by: [stype, "stype:awards"]
    compare_to: {stype: E}
  - id: schwide
    theme: language
    title: School-wide target by school type
    variables: [sch.wide]
    by: [stype, "stype:awards"]
    compare_to: {stype: E}
    chisq: [stype]
  - id: enroll
    theme: citizenship
    title: Enrolment
    variables: [enroll]
    statistics: [total]
    overall: true
"""


@pytest.fixture(scope="module")
def api_tables(tmp_path_factory, reference_dir):
    tmp = tmp_path_factory.mktemp("apirun")
    api = _api_run(tmp, reference_dir)
    wave = open_wave(tmp, variance="taylor")
    return api, build_tables(wave.design, parse_plan(API_PLAN), API_LABELS)


def _cells(t, variable, statistic, by_var, category=None):
    sel = (t["variable"] == variable) & (t["statistic"] == statistic) & (t["by_var"] == by_var)
    if category is not None:
        sel &= t["category"] == category
    return t[sel].reset_index(drop=True)


def test_columns_are_the_tidy_layout(api_tables):
    _, t = api_tables
    assert list(t.columns) == COLUMNS
    assert set(t["statistic"]) == {"mean", "median", "proportion", "difference", "rao_scott_f", "total"}
    assert (t["variance_method"] == "taylor").all()


def test_apistrat_mean_by_stype_matches_R_svyby(api_tables, survey_ref):
    _, t = api_tables
    ref = survey_ref["apistrat_mean_api00_by_stype"]
    got = _cells(t, "api00", "mean", "stype")
    assert list(got["by_value"]) == ref["stype"]
    assert list(got["by_label"]) == ["Elementary", "High", "Middle"]
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-7)
    overall = _cells(t, "api00", "mean", "overall")
    np.testing.assert_allclose(overall["estimate"], survey_ref["apistrat_mean_api00"]["estimate"], rtol=RTOL)
    np.testing.assert_allclose(overall["se"], np.ravel(survey_ref["apistrat_mean_api00"]["se"]), rtol=1e-7)


def test_apistrat_share_logit_ci_and_median_match_R(api_tables, survey_ref):
    _, t = api_tables
    p = _cells(t, "sch.wide", "proportion", "overall", "Yes")
    ref = survey_ref["apistrat_prop_schwide_yes_logit"]
    np.testing.assert_allclose(p["estimate"], ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(p[["ci_low", "ci_high"]].to_numpy().ravel(), ref["ci"], rtol=1e-7)
    assert p["category_label"].iloc[0] == "ja"
    med = _cells(t, "api00", "median", "overall")
    ref = survey_ref["apistrat_median_api00"]
    assert med["estimate"].iloc[0] == ref["estimate"]
    np.testing.assert_allclose(med[["ci_low", "ci_high"]].to_numpy().ravel(), ref["ci"])


def test_apistrat_weighted_means_of_crossing_equal_numpy_by_hand(api_tables):
    api, t = api_tables
    got = _cells(t, "api00", "mean", "stype:awards")
    for _, row in got.iterrows():  # 6 cells: a check, not the code under test
        s, a = row["by_value"].split(":")
        m = (api["stype"] == s) & (api["awards"] == a)
        w, y = api.loc[m, "pw"].to_numpy(), api.loc[m, "api00"].to_numpy()
        assert row["estimate"] == pytest.approx((w * y).sum() / w.sum(), rel=1e-12)
        assert row["n"] == m.sum()
        assert row["weighted_n"] == pytest.approx(w.sum(), rel=1e-12)


def _stratum_share_var(api, stype, cat):
    """Variance of a share within one stratum of a stratified SRS, by hand:
    (1 - n/N) s^2 / n with s^2 the sample variance (divisor n - 1)."""
    m = api["stype"] == stype
    y = (api.loc[m, "sch.wide"] == cat).to_numpy(float)
    n, N = m.sum(), api.loc[m, "fpc"].iloc[0]
    return y.mean(), (1 - n / N) * y.var(ddof=1) / n


def test_share_differences_against_reference_stratum_by_hand(api_tables):
    # Strata are sampled independently: var(p_H - p_E) = var(p_H) + var(p_E).
    api, t = api_tables
    got = _cells(t, "sch.wide", "difference", "stype", "Yes")
    assert list(got["by_value"]) == ["H", "M"]
    assert (got["reference"] == "E").all() and (got["reference_label"] == "Elementary").all()
    pe, ve = _stratum_share_var(api, "E", "Yes")
    for _, row in got.iterrows():
        pg, vg = _stratum_share_var(api, row["by_value"], "Yes")
        se = np.sqrt(vg + ve)
        assert row["estimate"] == pytest.approx(pg - pe, rel=1e-12)
        assert row["se"] == pytest.approx(se, rel=1e-9)
        p = 2 * stats.t.sf(abs(pg - pe) / se, 200 - 3)
        assert row["p_value"] == pytest.approx(p, rel=1e-6)
        assert row["n"] == 50  # the smaller domain


def test_mean_differences_against_reference_stratum_by_hand(api_tables, survey_ref):
    _, t = api_tables
    ref = survey_ref["apistrat_mean_api00_by_stype"]
    est = dict(zip(ref["stype"], ref["estimate"], strict=True))
    se = dict(zip(ref["stype"], ref["se"], strict=True))
    got = _cells(t, "api00", "difference", "stype")
    for _, row in got.iterrows():
        g = row["by_value"]
        assert row["estimate"] == pytest.approx(est[g] - est["E"], rel=1e-9)
        assert row["se"] == pytest.approx(np.hypot(se[g], se["E"]), rel=1e-7)


def test_rao_scott_row_is_design_chisq(api_tables):
    _, t = api_tables
    row = _cells(t, "sch.wide", "rao_scott_f", "stype")
    assert len(row) == 1 and row["n"].iloc[0] == 200
    assert row["ndf"].iloc[0] > 0 and 0 <= row["p_value"].iloc[0] < 0.05


def test_status_and_published_suppression(api_tables):
    _, t = api_tables
    small = t["n"] < 30
    assert small.any() and (t["suppressed"] == small).all()
    assert t.loc[small, "status"].str.contains("low_n").all()
    high = t["cv"] > 0.3
    assert t.loc[high, "status"].str.contains("high_cv").all()
    assert (t.loc[~high & ~small, "status"] == "ok").all()
    assert "flags" not in t.columns  # DataFrame.flags is a pandas attribute
    pub = publish(t)
    assert pub.loc[small, ["estimate", "se", "ci_low", "ci_high", "cv"]].isna().all().all()
    assert pub.loc[small, "n"].equals(t.loc[small, "n"])  # n stays: it says why
    assert np.allclose(pub.loc[~small, "estimate"], t.loc[~small, "estimate"], equal_nan=True)
    assert t.loc[small, "estimate"].notna().all()  # internal keeps the values


def test_replicate_run_folder_jkn_matches_R_as_svrepdesign(tmp_path, reference_dir, survey_ref):
    _api_run(tmp_path, reference_dir, replicates=True)
    wave = open_wave(tmp_path, variance="replicate")
    plan = parse_plan(API_PLAN.replace("variance: taylor", "variance: replicate"))
    t = build_tables(wave.design, plan, API_LABELS)
    got = _cells(t, "api00", "mean", "overall")
    ref = survey_ref["apistrat_JKn_mean_api00"]
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-7)
    assert (t["variance_method"] == "JKn").all()
    assert wave.design.degf == 200 - 3  # rank of the replicates - 1, as R degf(svrepdesign)


def test_open_wave_convenience_delegates_to_design(tmp_path, reference_dir, survey_ref):
    _api_run(tmp_path, reference_dir)
    wave = open_wave(tmp_path, variance="taylor")
    m = wave.mean("api00", by="stype")
    np.testing.assert_allclose(m["se"], survey_ref["apistrat_mean_api00_by_stype"]["se"], rtol=1e-7)
    p = wave.proportion("sch.wide")
    assert p["estimate"].iloc[1] == pytest.approx(survey_ref["apistrat_prop_schwide_yes_logit"]["estimate"])
    assert {"weight", "stratum", "api00"} <= set(wave.data.columns)


def test_apistrat_total_matches_R_svytotal(api_tables, survey_ref):
    _, t = api_tables
    got = _cells(t, "enroll", "total", "overall")
    ref = survey_ref["apistrat_total_enroll"]
    assert got["estimate"].iloc[0] == pytest.approx(ref["estimate"], rel=RTOL)
    assert got["se"].iloc[0] == pytest.approx(np.ravel(ref["se"])[0], rel=1e-7)


def test_chisq_of_a_numeric_variable_is_an_error_not_a_skip(tmp_path, reference_dir):
    from sid.errors import EstimationError

    _api_run(tmp_path, reference_dir)
    plan = parse_plan("wave: api\ntables:\n  - {id: t, theme: language, title: T, variables: [api00], "
                      "by: [stype], chisq: [stype]}\n")
    with pytest.raises(EstimationError, match="chisq tests categorical variables; 'api00' is numeric"):
        build_tables(open_wave(tmp_path, variance="taylor").design, plan, API_LABELS)


def _influence(api, y, dom):
    """Domain mean and its influence u_i = w_i 1[i in d] (y_i - ybar_d) / N_d."""
    w = api["pw"].to_numpy()
    ybar = (w * y * dom).sum() / (w * dom).sum()
    return ybar, w * dom * (y - ybar) / (w * dom).sum()


def _strat_var(api, u):
    """Stratified SRS variance of a total of u with fpc, by hand:
    sum_h (1 - f_h) n_h/(n_h - 1) sum_i (u_i - mean_h u)^2 (Cochran 1977, 5A.13)."""
    v = 0.0
    for h in api["stype"].unique():  # three strata
        m = (api["stype"] == h).to_numpy()
        n_h, N_h = m.sum(), api.loc[m, "fpc"].iloc[0]
        v += (1 - n_h / N_h) * n_h / (n_h - 1) * ((u[m] - u[m].mean()) ** 2).sum()
    return v


def _domain_mean_var(api, y, dom):
    ybar, u = _influence(api, y, dom)
    return ybar, _strat_var(api, u)


def test_differences_within_a_crossing_against_hand_taylor(tmp_path, reference_dir):
    api = _api_run(tmp_path, reference_dir)
    plan = parse_plan("wave: api\ntables:\n  - {id: t, theme: language, title: T, variables: [api00, sch.wide], "
                      "by: [\"stype:awards\"], compare_to: {\"stype:awards\": \"E:No\"}}\n")
    t = build_tables(open_wave(tmp_path, variance="taylor").design, plan, API_LABELS)
    d = t[t["statistic"] == "difference"]
    assert set(d["by_value"]) == {"E:Yes", "H:No", "H:Yes", "M:No", "M:Yes"}
    assert (d["reference"] == "E:No").all() and (d["reference_label"] == "Elementary – No").all()
    cell = {k: ((api["stype"] + ":" + api["awards"]) == k).to_numpy() for k in ["E:No", "H:No"]}
    y = api["api00"].to_numpy(float)
    (m_ref, v_ref), (m_h, v_h) = _domain_mean_var(api, y, cell["E:No"]), _domain_mean_var(api, y, cell["H:No"])
    row = d[(d["variable"] == "api00") & (d["by_value"] == "H:No")].iloc[0]
    assert row["estimate"] == pytest.approx(m_h - m_ref, rel=1e-12)
    assert row["se"] == pytest.approx(np.sqrt(v_h + v_ref), rel=1e-9)  # different strata: independent
    yes = (api["sch.wide"] == "Yes").to_numpy(float)
    (p_ref, v_ref), (p_h, v_h) = _domain_mean_var(api, yes, cell["E:No"]), _domain_mean_var(api, yes, cell["H:No"])
    row = d[(d["variable"] == "sch.wide") & (d["by_value"] == "H:No") & (d["category"] == "Yes")].iloc[0]
    assert row["estimate"] == pytest.approx(p_h - p_ref, rel=1e-12)
    assert row["se"] == pytest.approx(np.sqrt(v_h + v_ref), rel=1e-9)
    # Same stratum (E:Yes vs E:No): the covariance enters; var of the influence difference.
    cell["E:Yes"] = ((api["stype"] + ":" + api["awards"]) == "E:Yes").to_numpy()
    (m1, u1), (m0, u0) = _influence(api, y, cell["E:Yes"]), _influence(api, y, cell["E:No"])
    row = d[(d["variable"] == "api00") & (d["by_value"] == "E:Yes")].iloc[0]
    assert row["estimate"] == pytest.approx(m1 - m0, rel=1e-12)
    assert row["se"] == pytest.approx(np.sqrt(_strat_var(api, u1 - u0)), rel=1e-9)


BATCH_PLAN = """
wave: api
defaults: {min_n: 30, max_cv: 0.3, variance: replicate}
tables:
  - id: means
    theme: language
    title: Means by school type
    variables: [api00, enroll]
    by: [stype]
    overall: true
  - id: shares
    theme: language
    title: Shares by school type
    variables: [sch.wide, awards]
    by: [stype]
    overall: true
  - id: again
    theme: citizenship
    title: API again, with its median
    variables: [api00]
    statistics: [mean, median]
    by: [stype]
"""
BATCH_LABELS = Labels(
    variables={**API_LABELS.variables, "awards": "Awards", "enroll": "Enrolment"},
    categories={**API_LABELS.categories, "awards": {"No": "nee", "Yes": "ja"}},
    kinds={**API_LABELS.kinds, "awards": "categorical", "enroll": "numeric"},
)


@pytest.mark.parametrize("variance", ["replicate", "taylor"])
def test_batched_plan_rows_equal_one_call_per_variable(tmp_path, reference_dir, monkeypatch, variance):
    import sid.tables.build as build

    api = _api_run(tmp_path, reference_dir, replicates=True)
    # Missing values that differ by variable: each keeps its own denominator.
    clean = api[["person_key", "stype", "api00", "sch.wide", "awards", "enroll"]].copy()
    clean.loc[clean.index[::7], "enroll"] = np.nan
    clean.loc[clean.index[::5], "awards"] = np.nan
    save_wave_files(clean, SpssMeta.from_frame(clean), tmp_path / "clean")
    design = open_wave(tmp_path, variance=variance).design
    plan = parse_plan(BATCH_PLAN.replace("variance: replicate", f"variance: {variance}"))
    calls = []
    real_mean = type(design).mean

    def counting_mean(self, variable, *args, **kwargs):
        calls.append(variable)
        return real_mean(self, variable, *args, **kwargs)

    monkeypatch.setattr(type(design), "mean", counting_mean)
    batched = build_tables(design, plan, BATCH_LABELS)
    # One mean call per domain (overall, stype) with every variable of the plan.
    assert calls == [["api00", "enroll"], ["api00", "enroll"]]
    monkeypatch.setattr(build, "_batched", lambda *a: {})  # one call per (variable, domain)
    separate = build_tables(design, plan, BATCH_LABELS)
    pd.testing.assert_frame_equal(batched, separate, check_exact=True)
    assert batched.loc[batched["variable"] == "enroll", "n"].iloc[0] < len(api)
