# Reference figures for sid's Taylor variance of a clustered, stratified, two-stage design
# with fpc, raked within origin groups (tests/test_clustered_design.py).
#
#   Rscript tests/reference/r/clustered_taylor.R     # writes clustered_taylor.json beside it
#
# Input: clustered_sample.csv and clustered_population.csv (make_clustered_sample.py).
# Design: svydesign(ids = ~psu1 + id, strata = ~stratum, fpc = ~fpc1 + fpc2, weights = ~w,
# nest = TRUE); margins origin:sex and origin:age (raking within each origin group), by
#   * rake()                     -> "raked"      (post-stratification residuals, sid's Design.calibrate)
#   * calibrate(calfun="raking") -> "calibrated" (GREG residuals, sid's Design.calibrated)
# Estimates: svymean/svytotal of y and z, svyby(~y, ~origin / ~province, svymean).
# R 4.x, survey 4.1-1, jsonlite.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
# run as a file (Rscript .../clustered_taylor.R) or sourced from the repository root with
# the others (SID_REF_OUT: the output folder, see common.R)
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
here <- if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r"

d <- read.csv(file.path(here, "clustered_sample.csv"), stringsAsFactors = FALSE)
pop <- read.csv(file.path(here, "clustered_population.csv"), stringsAsFactors = FALSE)
for (v in c("origin", "sex", "age")) {
  d[[v]] <- factor(d[[v]])
  pop[[v]] <- factor(pop[[v]], levels = levels(d[[v]]))
}
des <- svydesign(ids = ~psu1 + id, strata = ~stratum, fpc = ~fpc1 + fpc2, weights = ~w,
                 data = d, nest = TRUE)

pos <- aggregate(count ~ origin + sex, data = pop, FUN = sum); names(pos)[3] <- "Freq"
poa <- aggregate(count ~ origin + age, data = pop, FUN = sum); names(poa)[3] <- "Freq"
raked <- rake(des, list(~origin + sex, ~origin + age), list(pos, poa),
              control = list(maxit = 200, epsilon = 1e-14, verbose = FALSE))

f <- ~origin + origin:sex + origin:age
totals <- colSums(model.matrix(f, pop) * pop$count)
cal <- calibrate(des, f, population = totals, calfun = "raking", maxit = 200, epsilon = 1e-13)

one <- function(x) list(estimate = unname(coef(x)), se = unname(SE(x)))
by_ <- function(g, design) {
  b <- svyby(~y, g, design, svymean)
  list(domain = as.character(b[[1]]), estimate = unname(coef(b)), se = unname(SE(b)))
}
figures <- function(design) list(
  mean_y = one(svymean(~y, design)), total_y = one(svytotal(~y, design)),
  mean_z = one(svymean(~z, design)), total_z = one(svytotal(~z, design)),
  mean_y_by_origin = by_(~origin, design), mean_y_by_province = by_(~province, design),
  weights = unname(weights(design)))

out <- list(
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
  design = "svydesign(ids=~psu1+id, strata=~stratum, fpc=~fpc1+fpc2, weights=~w, nest=TRUE)",
  uncalibrated = figures(des),
  raked = c(list(call = "rake(des, list(~origin+sex, ~origin+age), ..., epsilon=1e-14)"), figures(raked)),
  calibrated = c(list(call = "calibrate(des, ~origin+origin:sex+origin:age, calfun='raking')"), figures(cal)))
target <- if (nzchar(Sys.getenv("SID_REF_OUT"))) file.path(Sys.getenv("SID_REF_OUT"), "clustered_taylor.json") else
  file.path(here, "clustered_taylor.json")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), target)
