"""sid.report: the deliverables of a run folder.

HTML reports (``sid report``): :mod:`.stage` (``run_report(out_dir, project_dir)`` writes
DIR/report/*.html and index.html), one module per report gathering its figures from the
run folder into plain dicts (:mod:`.fieldwork`, :mod:`.cleaning`, :mod:`.weighting`,
:mod:`.indices`, :mod:`.indicators`), :mod:`.render` (jinja2 over the project's
``reports/*.html.j2``, StrictUndefined), :mod:`.charts` (matplotlib -> inline SVG),
:mod:`.provenance` (the manifest block) and :mod:`.context` (run folder + labels).
The labelled SPSS file of the wave: :mod:`.spss_file`.
"""
