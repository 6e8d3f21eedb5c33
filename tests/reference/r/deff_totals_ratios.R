# Design effects of totals and ratios (svytotal / svyratio / svyby with deff = TRUE).
# survey 4.1: the SRS variance of a total is svyvar(x) * (sum w)^2 * (N - n) / (N n);
# a ratio's deff is that of the total of its linearised variable.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
t1 <- svytotal(~enroll, dstrat, deff = TRUE)
r1 <- svyratio(~api00, ~api99, dstrat, deff = TRUE)
t2 <- svytotal(~enroll, dclus1, deff = TRUE)
r2 <- svyratio(~api00, ~enroll, dclus1, deff = TRUE)
tb <- svyby(~enroll, ~stype, dclus1, svytotal, deff = TRUE)
# with missing values (acs.k3 is NA for 39 schools): na.rm drops them from the SRS variance
tm <- svytotal(~acs.k3, dclus1, deff = TRUE, na.rm = TRUE)
write_ref(list(
  apistrat_total_enroll = list(estimate = unname(coef(t1)), se = unname(SE(t1))[1], deff = unname(deff(t1))[1]),
  apistrat_ratio_api00_api99 = list(estimate = unname(coef(r1)), se = unname(SE(r1))[1], deff = unname(deff(r1))[1]),
  apiclus1_total_enroll = list(estimate = unname(coef(t2)), se = unname(SE(t2))[1], deff = unname(deff(t2))[1]),
  apiclus1_ratio_api00_enroll = list(estimate = unname(coef(r2)), se = unname(SE(r2))[1], deff = unname(deff(r2))[1]),
  apiclus1_total_enroll_by_stype = list(stype = as.character(tb$stype), estimate = unname(coef(tb)),
                                        se = unname(SE(tb)), deff = unname(deff(tb))),
  apiclus1_total_acsk3_narm = list(estimate = unname(coef(tm)), se = unname(SE(tm))[1], deff = unname(deff(tm))[1])
), "deff_totals_ratios")
