# survey_reference.json: figures of R's survey package on the California API samples.
#
# Reconstructed script (the original was not kept): it computes every key of the shipped
# survey_reference.json (see README.md in this folder). Run it with R, survey and jsonlite
# installed (Debian: r-base-core r-cran-survey r-cran-jsonlite):
#
#   Rscript tests/reference/survey_reference.R [OUT.json]
#
# The figures are computed on the survey package's own data(api); the CSVs beside this
# script (apistrat.csv, apiclus1.csv, apiclus2.csv, which the tests read) are
# write.csv(..., row.names = FALSE) of those data frames, and the script checks that they
# still are. It writes OUT.json (default: survey_reference.new.json beside it, so the
# shipped reference is never overwritten); with R 4.2.2 and survey 4.1.1 (Debian bookworm)
# the output is byte-identical to survey_reference.json.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference"
})
out <- if (length(args) >= 1) args[1] else file.path(here, "survey_reference.new.json")

data(api, package = "survey")
# the shipped CSVs are these data frames as write.csv writes them
for (name in c("apistrat", "apiclus1", "apiclus2")) {
  written <- tempfile(fileext = ".csv")
  write.csv(get(name), written, row.names = FALSE)
  if (!identical(readLines(written), readLines(file.path(here, paste0(name, ".csv")))))
    warning(name, ".csv differs from write.csv(", name, ", row.names = FALSE)")
}

# estimate and standard error as jsonlite writes them: SE() of one variable is a 1 x 1
# matrix (written [[se]]), of a svyby a vector
est_se <- function(s) list(estimate = unname(coef(s)), se = unname(SE(s)))

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus1_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)

ref <- list(
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey"))
)

# -- Taylor linearisation --------------------------------------------------------------
ref$apistrat_mean_api00 <- est_se(svymean(~api00, dstrat))
ref$apistrat_total_enroll <- est_se(svytotal(~enroll, dstrat))
by_stype <- svyby(~api00, ~stype, dstrat, svymean)
ref$apistrat_mean_api00_by_stype <- list(
  stype = as.character(by_stype$stype),
  estimate = unname(coef(by_stype)),
  se = unname(SE(by_stype))
)
p <- svyciprop(~I(sch.wide == "Yes"), dstrat, method = "logit")
ref$apistrat_prop_schwide_yes_logit <- list(
  estimate = as.numeric(p), ci = as.numeric(confint(p))
)
r <- svyratio(~api00, ~api99, dstrat)
ref$apistrat_ratio_api00_api99 <- list(
  estimate = as.numeric(coef(r)), se = as.numeric(SE(r))
)
ref$apiclus1_mean_api00 <- est_se(svymean(~api00, dclus1))
ref$apiclus1_mean_api00_nofpc <- est_se(svymean(~api00, dclus1_nofpc))
ref$apiclus1_total_enroll <- est_se(svytotal(~enroll, dclus1))
ref$apiclus2_mean_api00 <- est_se(svymean(~api00, dclus2))

# -- calibration -----------------------------------------------------------------------
pop_types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
# raked to convergence: rake()'s default epsilon = 1 (a count) stops about 1e-5 short of
# the fixed point; the reference weights are the converged ones
converged <- list(maxit = 100, epsilon = 1e-10, verbose = FALSE)
rclus1 <- rake(dclus1, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
               control = converged)
ref$apiclus1_rake_stype_schwide <- list(
  margins = list(stype = pop_types, sch.wide = pop_schwide),
  weights = unname(weights(rclus1)),
  mean_api00 = est_se(svymean(~api00, rclus1)),
  total_enroll = est_se(svytotal(~enroll, rclus1))
)

totals_stype <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018)
totals_stype_api99 <- c(totals_stype, api99 = 3914069)
cal <- function(design, formula, totals, ...) {
  d <- calibrate(design, formula, totals, ...)
  list(pop_totals = as.list(totals), weights = unname(weights(d)),
       mean_api00 = est_se(svymean(~api00, d)))
}
ref$apiclus1_calibrate_linear_stype <- cal(dclus1, ~stype, totals_stype)
ref$apiclus1_calibrate_linear_stype_api99 <- cal(dclus1, ~stype + api99, totals_stype_api99)
logit <- cal(dclus1, ~stype + api99, totals_stype_api99, bounds = c(0.7, 1.7), calfun = "logit")
ref$`apiclus1_calibrate_logit_bounds_0.7_1.7` <- c(logit[1], list(bounds = c(0.7, 1.7)), logit[-1])
ref$apiclus1_calibrate_raking_stype_api99 <- cal(dclus1, ~stype + api99, totals_stype_api99,
                                                 calfun = "raking")

ps <- postStratify(dclus1, ~stype, pop_types)
ref$apiclus1_poststratify_stype <- list(
  weights = unname(weights(ps)), mean_api00 = est_se(svymean(~api00, ps))
)
ref$apiclus1_rake_then_trim_20_40 <- list(
  weights = unname(weights(trimWeights(rclus1, lower = 20, upper = 40)))
)

# -- replicate weights -----------------------------------------------------------------
jk1 <- as.svrepdesign(dclus1, type = "JK1")
m <- svymean(~api00, jk1)
ref$apiclus1_JK1_mean_api00 <- list(estimate = as.numeric(coef(m)), se = as.numeric(SE(m)))
m <- svymean(~api00, as.svrepdesign(dstrat, type = "JKn"))
ref$apistrat_JKn_mean_api00 <- list(estimate = as.numeric(coef(m)), se = as.numeric(SE(m)))
m <- svymean(~api00, rake(jk1, list(~stype, ~sch.wide), list(pop_types, pop_schwide),
                           control = converged))
ref$apiclus1_JK1_raked_mean_api00 <- list(estimate = as.numeric(coef(m)), se = as.numeric(SE(m)))

# -- tests, quantiles, design effect ---------------------------------------------------
rs <- svychisq(~sch.wide + stype, dclus1, statistic = "F")
ref$apiclus1_raoscott_schwide_stype <- list(
  F = unname(rs$statistic), ndf = unname(rs$parameter[1]), ddf = unname(rs$parameter[2]),
  p = unname(rs$p.value)
)
q <- svyquantile(~api00, dstrat, 0.5)
ref$apistrat_median_api00 <- list(
  estimate = unname(q$api00[1, "quantile"]),
  ci = unname(q$api00[1, c("ci.2.5", "ci.97.5")])
)
ref$apiclus1_mean_api00_deff <- unname(as.numeric(deff(svymean(~api00, dclus1, deff = TRUE))))

write_json(ref, out, auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat("wrote", out, "\n")
