"""The trend stage: two or more processed waves' run folders -> OUT/trend/ (docs/trends.md).

Each run folder holds one wave (its manifest records it) of the project's ``trends:`` entry
(sid.yaml: the harmonisation spec, the waves in time order, the trend's run folder). Each
wave is opened as its tables are (``sid.open_wave`` with the variance, lonely-PSU rule and
disclosure rules of the wave's table plan: SID 2017 Taylor on its clustered design, 2022
its replicate weights); the harmonisation is checked against each wave's questionnaire;
the trend is sid.trends.trend_table. Outputs, written together and atomically as one
folder with the manifest entry ``trend`` (sid.runfolder.manifest.stage_folder):

* ``trend.csv`` and ``trend.parquet``: the published trend (a wave's values under its
  ``min_n`` blank, status kept), rounded as sid.trends.output states;
* ``internal/trend_internal.csv``: every value to full precision, flagged, not
  suppressed: for the survey team only;
* ``trend.html``: the trend page in Dutch (sid.report.trend_page), drawn from the
  published table only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from sid.errors import RunFolderError, SpecError
from sid.project import PROJECT_FILE, Project, Wave, load_project, wave_questionnaire

PathLike = str | os.PathLike[str]
TREND = "trend"
CSV, PARQUET = "trend.csv", "trend.parquet"
INTERNAL = "internal/trend_internal.csv"  # unsuppressed: kept apart from what may be published
PAGE = "trend.html"  # the trend page (sid.report.trend_page), from the published table


def trend_of(project: Project):
    """The project's ``trends:`` entry; a SpecError saying how to add one when absent."""
    if project.trends is None:
        raise SpecError(f"{project.file}: the project has no trends entry; add trends: {{harmonisation: "
                        "questionnaires/harmonisation.yaml, waves: [W1, W2]} (docs/project-file.md)")
    return project.trends


def _wave_of_run(run: Path, project: Project, waves: Sequence[str]) -> Wave:
    from sid.runfolder.context import recorded_wave

    if not run.is_dir():
        raise RunFolderError(f"{run}: run folder not found; run `sid run --wave W --out {run}` first, "
                             "or give the run folders with --runs DIR DIR")
    name = recorded_wave(run)
    if name is None:
        raise RunFolderError(f"{run}: not a sid run folder of a wave (its manifest records no wave); "
                             "give the run folders of processed waves (sid run)")
    if name not in waves:
        raise RunFolderError(f"{run}: holds wave {name!r}, which the trend of {project.file} does not compare "
                             f"(trends.waves: {', '.join(waves)}); give a run folder of each of those waves")
    return project.waves[name]


def _inputs(run: Path, variance: str, indices: bool) -> list[Path]:
    """The stage outputs the trend reads from ``run``; a RunFolderError naming the first absent."""
    need = [("clean", "clean/data.parquet"), ("clean", "clean/meta.json"), ("weight", "weight/weights.parquet"),
            ("weight", "weight/diagnostics.json")]
    if variance == "replicate":
        need.append(("weight", "weight/replicates.parquet"))
    if indices:
        need.append(("score", "score/indices.parquet"))
    for stage, rel in need:
        if not (run / rel).is_file():
            raise RunFolderError(f"{run / rel} not found; run `sid {stage} --out {run}` (or `sid run`) first")
    return [run / rel for _, rel in need]


def _check_spec(h, questionnaires) -> None:
    from sid.spec.check_harmonisation import check_harmonisation

    errors = [f for f in check_harmonisation(h, questionnaires) if f.severity == "error"]
    if errors:
        f = errors[0]
        raise SpecError((f"{f.where}: " if f.where else "") + f.message + (f" (and {len(errors) - 1} more; run sid check)"
                                                      if len(errors) > 1 else ""))


def run_trend(runs: Sequence[PathLike] = (), out_dir: PathLike | None = None,
              project_dir: PathLike | Project = ".", progress: Callable[[str], None] | None = None,
              lang: str | None = None) -> Path:
    """Compute the trend over the run folders ``runs`` (default: each compared wave's
    run_folder) and write ``out_dir/trend`` (default: the trends entry's run_folder).
    ``lang``: the trend page's language (default: the latest wave's ``language``).
    Nothing is written when an input is wrong. Returns the trend folder."""
    from sid.messages import catalogue, check_language
    from sid.report.trend_page import runs_provenance, trend_page
    from sid.runfolder.manifest import StageRecord, begin_stage, stage_folder
    from sid.runfolder.wave import open_wave
    from sid.spec.harmonisation import load_harmonisation
    from sid.tables.plan import Defaults, load_plan
    from sid.trends.compute import OVERALL, WaveInput, publish, trend_table
    from sid.trends.labels import trend_labels
    from sid.trends.output import round_trend, write_trend_csv

    project = project_dir if isinstance(project_dir, Project) else load_project(project_dir)
    t = trend_of(project)
    out = Path(out_dir) if out_dir is not None else t.run_folder
    paths = [Path(r) for r in runs] or [project.waves[w].run_folder for w in t.waves]
    if len(paths) < 2:
        raise RunFolderError(f"a trend compares two or more run folders, got {len(paths)}; give --runs DIR DIR")
    begin_stage(out)
    waves = [_wave_of_run(p, project, t.waves) for p in paths]
    seen: dict[str, Path] = {}
    for w, p in zip(waves, paths, strict=True):
        if w.name in seen:
            raise RunFolderError(f"{p} and {seen[w.name]} hold the same wave {w.name}; give one run folder per wave")
        seen[w.name] = p
    order = sorted(range(len(waves)), key=lambda i: t.waves.index(waves[i].name))
    waves, paths = [waves[i] for i in order], [paths[i] for i in order]
    h = load_harmonisation(t.harmonisation, waves=t.waves)
    questionnaires = {w.name: wave_questionnaire(w) for w in waves}
    _check_spec(h, questionnaires)
    indices = any(c.waves[w.name].variable in {ix.name for ix in questionnaires[w.name].indices}
                  for c in h.concepts.values() for w in waves)
    inputs: list[Path] = []
    specs: list[Path] = [t.harmonisation]
    plans = []
    for w, p in zip(waves, paths, strict=True):  # every input is checked before any work
        plan = load_plan(w.tables) if w.tables is not None else None
        d = plan.defaults if plan is not None else Defaults()
        if plan is None and progress is not None:
            progress(f"wave {w.name} names no table plan (tables: in {w.project_dir / PROJECT_FILE}); "
                     "the trend uses the plan defaults")
        inputs += _inputs(p, d.variance, indices)
        specs += [w.questionnaire] + ([w.tables] if w.tables is not None else [])
        plans.append(d)
    inputs_by_wave = []
    for w, p, d in zip(waves, paths, plans, strict=True):
        q = questionnaires[w.name]
        if progress is not None:
            progress(f"opening {w.name} in {p} ({d.variance} variance)")
        wave = open_wave(p, variance=d.variance, key=q.key, lonely_psu=d.lonely_psu)
        period = str(q.reference_date.year) if q.reference_date is not None else w.name
        inputs_by_wave.append(WaveInput(w.name, wave.design, min_n=d.min_n, max_cv=d.max_cv, period=period,
                                        proportion_ci=d.proportion_ci))
    level = plans[-1].level  # the latest wave's confidence level
    if progress is not None:
        progress(f"trend of {len(h.concepts)} concepts over {', '.join(w.name for w in waves)}")
    language = check_language(lang, "--lang") if lang is not None else waves[-1].language
    internal = trend_table(inputs_by_wave, h, level=level, labels=trend_labels(h, questionnaires))
    overall = (internal["domain"] == OVERALL).to_numpy(dtype=bool)  # the whole population, in the page's language
    internal.loc[overall, ["domain_label", "by_label"]] = catalogue(language)("common.total")
    published = round_trend(publish(internal))
    rec = StageRecord(stage=TREND, inputs=inputs, specs=specs, params={
        "waves": [w.name for w in waves], "language": language, "runs": [str(p) for p in paths], "level": level,
        "variance": {wi.name: wi.design.method for wi in inputs_by_wave},
        "reference_distribution": "normal (df = Inf), as R confint(svycontrast(...))",
        "rows": len(internal), "suppressed": int(internal["suppressed"].sum()),
        "breaks": int(internal["break"].sum()), "composition_changed": int(internal["composition_changed"].sum())})
    with stage_folder(out, rec) as st:
        write_trend_csv(published, st.path / CSV)
        published.to_parquet(st.path / PARQUET, index=False)
        (st.path / INTERNAL).parent.mkdir()
        write_trend_csv(internal, st.path / INTERNAL)
        # The latest wave's report templates (sid.yaml templates:) override the page's, as for its reports.
        page = trend_page(published, h, runs_provenance(paths, st.run_id), lang=language,
                          survey_title=project.title or project.name, templates_dir=waves[-1].templates)
        (st.path / PAGE).write_text(page, encoding="utf-8")
    return out / TREND


__all__ = ["CSV", "INTERNAL", "PAGE", "PARQUET", "TREND", "run_trend", "trend_of"]
