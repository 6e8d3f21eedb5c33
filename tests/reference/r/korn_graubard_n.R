# Korn-Graubard (svyciprop(method = "beta")): the n of the df adjustment is nrow(design),
# every row of the design (of the domain's design for svyby), missing values included.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
p <- svyciprop(~I(avg.ed > 3), dclus1, method = "beta", na.rm = TRUE)
by <- svyby(~I(avg.ed > 3), ~stype, dclus1, svyciprop, method = "beta", na.rm = TRUE, vartype = "ci")
write_ref(list(
  apiclus1_avged_gt3_beta = list(estimate = unname(as.vector(p)), ci = unname(attr(p, "ci")), nrow = nrow(dclus1)),
  apiclus1_avged_gt3_beta_by_stype = list(stype = as.character(by$stype), estimate = unname(coef(by)),
                                          ci_l = unname(by$ci_l), ci_u = unname(by$ci_u))
), "korn_graubard_n")
