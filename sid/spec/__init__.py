"""Project specs as data: the questionnaire spec and sid's safe expression language.

* :mod:`sid.spec.yamlfile` - YAML loading and key-by-key validation with one-line errors
  (file:line: key.path: what is wrong); used by every spec loader (questionnaire, linkage...).
* :mod:`sid.spec.expr` - ``parse(source) -> Expression``; :mod:`sid.spec.expr_nodes` and
  :mod:`sid.spec.expr_funcs` evaluate it column-wise (three-valued logic for missing).
* :mod:`sid.spec.questionnaire` - frozen dataclasses, ``load_questionnaire(path)``,
  ``Questionnaire.to_spss_meta()``; :mod:`sid.spec.questionnaire_parse` validates.
* :mod:`sid.spec.frame` - valid view, expression environments and ``derive(df, q)``.
* :mod:`sid.spec.check` - ``check_spec(q)`` and ``check_data(df, meta, q)`` findings
  (``sid check``); :mod:`sid.spec.check_literals` lints literals in expressions.
"""
