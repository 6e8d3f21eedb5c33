# svyglm (survey 4.1.1) for sid's Design.glm: coefficients, SEs, t, p, df.residual,
# confint, regTermTest (F on df.residual, and chi-square with df = Inf), predict with SEs,
# svypredmeans. Taylor: apistrat, two-stage apiclus2 (fpc at both stages), a domain of
# apistrat, raked apiclus1; replicate: JK1 of apiclus1 and apiclus2, bootstrap of apistrat,
# whose replicate factors are written (sid multiplies them by pw) so both use the same weights.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
set.seed(1414)

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
rk <- rake(dclus1, list(~stype, ~sch.wide),
           list(data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)),
                data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))),
           control = list(maxit = 100, epsilon = 1e-10))

fit_ref <- function(m, test) {
  s <- summary(m)$coefficients
  w <- regTermTest(m, test)
  wi <- regTermTest(m, test, df = Inf)
  list(names = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]), t = unname(s[, 3]),
       p = unname(s[, 4]), df = m$df.residual, ci = unname(confint(m)),
       wald = list(terms = paste(deparse(test), collapse = ""), F = unname(as.vector(w$Ftest)), ndf = w$df, ddf = w$ddf, p = unname(as.vector(w$p))),
       wald_chisq = list(chisq = unname(as.vector(wi$chisq)), ndf = wi$df, p = unname(as.vector(wi$p))))
}
pred_ref <- function(m, newdata, type) {
  p <- predict(m, newdata = newdata, type = type)
  list(rows = as.integer(rownames(newdata)), estimate = unname(as.vector(coef(p))), se = unname(sqrt(as.vector(attr(p, "var")))))
}
pm_ref <- function(m, by) {
  p <- svypredmeans(m, by)
  list(levels = names(coef(p)), estimate = unname(coef(p)), se = unname(SE(p)))
}
factors <- function(r, pw) unname(weights(r, "analysis") / pw)

out <- list()
# -- Taylor ---------------------------------------------------------------------------
m <- svyglm(api00 ~ ell + meals + mobility, dstrat)
out$apistrat_linear <- c(fit_ref(m, ~ell + meals),
  list(predict = pred_ref(m, apistrat[1:5, ], "link"), predmeans = pm_ref(m, ~stype)))
m <- svyglm(I(sch.wide == "Yes") ~ ell + meals + stype, dstrat, family = quasibinomial)
out$apistrat_logit <- c(fit_ref(m, ~stype),
  list(predict = pred_ref(m, apistrat[1:5, ], "response"), predmeans = pm_ref(svyglm(I(sch.wide == "Yes") ~ ell + meals,
       dstrat, family = quasibinomial), ~stype)))
m <- suppressWarnings(svyglm(I(sch.wide == "Yes") ~ ell + meals + stype, dstrat, family = binomial))
out$apistrat_binomial <- fit_ref(m, ~stype)
m <- svyglm(enroll ~ meals + stype, dstrat, family = poisson)
out$apistrat_poisson <- fit_ref(m, ~stype)
m <- svyglm(api00 ~ ell + meals + mobility, subset(dstrat, stype != "E"))
out$apistrat_domain_not_E_linear <- fit_ref(m, ~ell + meals)
m <- svyglm(api00 ~ ell + meals + mobility + stype, dclus2)
out$apiclus2_linear <- c(fit_ref(m, ~stype), list(predict = pred_ref(m, apiclus2[1:5, ], "link")))
m <- svyglm(I(sch.wide == "Yes") ~ ell + meals + enroll, dclus2, family = quasibinomial)
out$apiclus2_logit_enroll_missing <- fit_ref(m, ~ell + meals)
m <- svyglm(api00 ~ ell + meals + stype, rk)
out$apiclus1_raked_linear <- fit_ref(m, ~stype)
m <- svyglm(I(sch.wide == "Yes") ~ ell + meals, rk, family = quasibinomial)
out$apiclus1_raked_logit <- fit_ref(m, ~ell + meals)

# -- replicate --------------------------------------------------------------------------
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
rclus2 <- suppressWarnings(as.svrepdesign(dclus2, type = "JK1"))  # drops the stage-2 fpc
bstrat <- as.svrepdesign(dstrat, type = "bootstrap", replicates = 50)
out$apiclus1_jk1 <- list(scale = rclus1$scale, rscales = unname(rclus1$rscales), factors = factors(rclus1, apiclus1$pw),
  linear = fit_ref(svyglm(api00 ~ ell + meals + stype, rclus1), ~stype),
  logit = fit_ref(svyglm(I(sch.wide == "Yes") ~ ell + meals, rclus1, family = quasibinomial), ~ell + meals))
out$apiclus2_jk1 <- list(scale = rclus2$scale, rscales = unname(rclus2$rscales),
  factors = factors(rclus2, weights(dclus2)), pw = unname(weights(dclus2)),
  linear = fit_ref(svyglm(api00 ~ ell + meals + mobility + stype, rclus2), ~stype),
  logit = fit_ref(svyglm(I(sch.wide == "Yes") ~ ell + meals + enroll, rclus2, family = quasibinomial), ~ell + meals))
ml <- svyglm(api00 ~ ell + meals + mobility, bstrat)
mb <- svyglm(I(sch.wide == "Yes") ~ ell + meals + stype, bstrat, family = quasibinomial)
out$apistrat_boot <- list(scale = bstrat$scale, rscales = unname(bstrat$rscales), factors = factors(bstrat, apistrat$pw),
  linear = c(fit_ref(ml, ~ell + meals), list(predict = pred_ref(ml, apistrat[1:5, ], "link"))),
  logit = fit_ref(mb, ~stype))  # svypredmeans fails on replicate designs in survey 4.1.1
write_ref(out, "svyglm")
