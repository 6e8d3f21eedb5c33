# Reference figures for the Taylor SEs of the sid2017 demo wave's table cells
# (tests/test_sid2017_taylor_reference.py), computed by R's survey from the weighted
# respondents the run exported (sid2017_sample.csv: prior weights, PSUs, strata and the
# collapsed calibration cells of each margin) and the margins' population totals
# (sid2017_margins.csv):
#   svydesign(ids = ~psu_1 + psu_2, strata = ~stratum, weights = ~prior_weight, nest = TRUE)
#   rake() on the three within-group margins, to convergence
#   svyby(~idx_taal, ~herkomst, svymean, na.rm = TRUE), likewise idx_inclusie, and overall means
#
#   Rscript tests/reference/r/sid2017_taylor.R      # writes sid2017_taylor.json beside it
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
here <- if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r"  # sourced from the repo root
suppressPackageStartupMessages({library(survey); library(jsonlite)})
d <- read.csv(file.path(here, "sid2017_sample.csv"), stringsAsFactors = FALSE, colClasses = c(pseudo_id = "character", psu_2 = "character"))
pop <- read.csv(file.path(here, "sid2017_margins.csv"), stringsAsFactors = FALSE)
des <- svydesign(ids = ~psu_1 + psu_2, strata = ~stratum, weights = ~prior_weight, data = d, nest = TRUE)
sample_margins <- lapply(c("m1", "m2", "m3"), function(m) as.formula(paste0("~", m)))
pop_margins <- lapply(c("m1", "m2", "m3"), function(m) {
  p <- pop[pop$margin == m, c("cell", "Freq")]; names(p) <- c(m, "Freq"); p })
raked <- rake(des, sample_margins, pop_margins, control = list(maxit = 500, epsilon = 1e-13, verbose = FALSE))
one <- function(x) list(estimate = unname(coef(x)), se = unname(SE(x)))
by_ <- function(v) {
  b <- svyby(as.formula(paste0("~", v)), ~herkomst, raked, svymean, na.rm = TRUE)
  list(domain = as.character(b$herkomst), estimate = unname(coef(b)), se = unname(SE(b)))
}
out <- list(
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
  design = "svydesign(ids=~psu_1+psu_2, strata=~stratum, weights=~prior_weight, nest=TRUE); rake(m1, m2, m3)",
  weights = unname(weights(raked)),
  idx_taal = one(svymean(~idx_taal, raked, na.rm = TRUE)), idx_inclusie = one(svymean(~idx_inclusie, raked, na.rm = TRUE)),
  idx_taal_by_herkomst = by_("idx_taal"), idx_inclusie_by_herkomst = by_("idx_inclusie"))
dest <- if (nzchar(Sys.getenv("SID_REF_OUT"))) file.path(Sys.getenv("SID_REF_OUT"), "sid2017_taylor.json") else
  file.path(here, "sid2017_taylor.json")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), dest)
