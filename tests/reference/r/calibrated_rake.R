# SEs of a raked design (rake(), converged): R's residuals are rake()'s iterated
# post-stratification, not the GREG residuals of calibrate(). sid's Design.calibrated is
# given the raked weights and the margins.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
rk <- rake(dclus1, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
           control = list(maxit = 100, epsilon = 1e-10))
m <- svymean(~api00, rk); t <- svytotal(~enroll, rk); b <- svyby(~api00, ~stype, rk, svymean)
# apistrat (unequal prior weights between strata), raked on sch.wide and awards
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
pop_aw <- data.frame(awards = c("No", "Yes"), Freq = c(2300, 3894))
rs <- rake(dstrat, list(~sch.wide, ~awards), list(pop_schwide, pop_aw), control = list(maxit = 100, epsilon = 1e-10))
ms <- svymean(~api00, rs); bs <- svyby(~api00, ~stype, rs, svymean)
write_ref(list(apistrat_rake = list(weights = unname(weights(rs)),
  mean_api00 = list(estimate = unname(coef(ms)), se = unname(SE(ms))[1]),
  mean_api00_by_stype = list(estimate = unname(coef(bs)), se = unname(SE(bs)))),
  apiclus1_rake = list(weights = unname(weights(rk)),
  mean_api00 = list(estimate = unname(coef(m)), se = unname(SE(m))[1]),
  total_enroll = list(estimate = unname(coef(t)), se = unname(SE(t))[1]),
  mean_api00_by_stype = list(estimate = unname(coef(b)), se = unname(SE(b))))), "calibrated_rake")
