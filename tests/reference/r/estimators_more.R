# Counts per category (svytotal of a factor, with svyby), svytable, svyvar and svycontrast
# on apiclus1 (one-stage cluster sample) and apistrat, for sid's Design.count,
# Design.crosstab, Design.var and sid.contrast. avg.ed is missing for 26 apiclus1 schools.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
cnt <- svytotal(~stype, dclus1, deff = TRUE)
cby <- svyby(~stype, ~sch.wide, dclus1, svytotal)
tab <- svytable(~sch.wide + stype, dclus1)
tabN <- svytable(~sch.wide + stype, dclus1, Ntotal = 1000)
v <- svyvar(~api00, dclus1)
vna <- svyvar(~avg.ed, dclus1, na.rm = TRUE)
vby <- svyby(~api00, ~stype, dclus1, svyvar)
mby <- svyby(~api00, ~stype, dclus1, svymean, covmat = TRUE)
con <- svycontrast(mby, list(E_minus_H = c(1, -1, 0), avg = c(1, 1, 1) / 3))
ms <- svymean(~api00 + api99, dstrat)
cs <- svycontrast(ms, c(api00 = 1, api99 = -1))
g <- svyglm(api00 ~ ell + meals, dstrat)
cg <- svycontrast(g, c(ell = 1, meals = -1))
write_ref(list(
  apiclus1_count_stype = list(estimate = unname(coef(cnt)), se = unname(SE(cnt)), deff = unname(diag(attr(cnt, "deff")))),
  apiclus1_count_stype_by_schwide = list(estimate = unname(as.vector(t(coef_matrix <- as.matrix(cby[, 2:4])))),
                                         se = unname(as.vector(t(as.matrix(cby[, 5:7]))))),
  apiclus1_svytable = list(rows = rownames(tab), cols = colnames(tab), table = unname(unclass(tab)),
                           table_ntotal_1000 = unname(unclass(tabN))),
  apiclus1_svyvar_api00 = list(estimate = unname(coef(v)), se = unname(SE(v))[1]),
  apiclus1_svyvar_avged_narm = list(estimate = unname(coef(vna)), se = unname(SE(vna))[1]),
  apiclus1_svyvar_api00_by_stype = list(estimate = unname(coef(vby)), se = unname(SE(vby))),
  apiclus1_contrast_means_by_stype = list(estimate = unname(coef(con)), se = unname(SE(con)), vcov = unname(vcov(mby))),
  apistrat_contrast_api00_api99 = list(estimate = unname(coef(cs)), se = unname(SE(cs))[1]),
  apistrat_contrast_glm_ell_meals = list(estimate = unname(coef(cg)), se = unname(SE(cg))[1])
), "estimators_more")
