# Domain differences of means: svyttest(y ~ g) (two groups) is svyglm's coefficient with
# df = degf(design) + 1 - 2; for G groups svyglm(y ~ g) has df.residual = degf + 1 - G.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
tt <- svyttest(api00 ~ sch.wide, dstrat)
g <- svyglm(api00 ~ stype, dclus1)
cf <- summary(g)$coefficients
write_ref(list(
  apistrat_ttest_api00_schwide = list(t = unname(tt$statistic), df = unname(tt$parameter),
    p = unname(tt$p.value), estimate = unname(tt$estimate), ci = unname(as.vector(tt$conf.int))),
  apiclus1_glm_api00_stype = list(df = g$df.residual, estimate = unname(cf[-1, 1]), se = unname(cf[-1, 2]),
    t = unname(cf[-1, 3]), p = unname(cf[-1, 4]))
), "compare_df")
