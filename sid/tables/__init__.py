"""sid.tables: the wave's weighted tables from a table plan.

plan         the table plan (reports/<wave>_tables.yaml): defaults and tables; loader
labels       variable and category labels, kinds, index themes (from the questionnaire)
build        build_tables(design, plan, labels): one long tidy frame of every cell
differences  differences of category shares between domains, with t-tests
disclosure   flags (low_n, high_cv) and suppression of published cells
excel        the Excel workbook: one sheet per theme, labels, notes sheet
stage        run_tables(out_dir, project_dir): the `sid tables` stage on a run folder
"""
