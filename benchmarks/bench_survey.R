# The benchmark tasks in R's survey package, timed with system.time inside R, so R's
# start-up and reading the data are not counted. Called by benchmarks/r_peer.py:
#   Rscript bench_survey.R <respondents.csv> <margins.csv> <factors.bin> <R> <out dir>
# factors.bin: the n x R bootstrap factors sid draws (float64, column-major), so the
# replicate weights are the same as sid's and svy's.
#
# rake:      svydesign(ids=~1, strata=~origin, weights=~design_weight) then rake() on the
#            interaction margins origin_sex, origin_age_band, origin_region.
# taylor:    svymean / svyby(..., svymean) of the Taylor variables on the raked design
#            (rake()'s post-stratification residuals: calibration-aware SEs).
# bootstrap: as.svrepdesign(type="subbootstrap", replicates=R) (R draws its own Rao-Wu
#            replicates) then rake(), which rakes the full-sample and every replicate column.
# rerake:    svrepdesign(repweights = design weight x sid's factors, scale 1/(R-1)) then
#            rake(): the same replicate weights as sid and svy.
# tables:    svymean / svyby of the indices, dutch_home and q_lang_home's categories on the
#            re-raked replicate design.
suppressPackageStartupMessages({
  library(survey)
  library(data.table)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
resp_csv <- args[1]; marg_csv <- args[2]; fac_bin <- args[3]
nrep <- as.integer(args[4]); out <- args[5]
tol <- 1e-8
options(survey.lonely.psu = "fail")

df <- as.data.frame(fread(resp_csv))
marg <- as.data.frame(fread(marg_csv))
vars <- c("origin_sex", "origin_age_band", "origin_region")
pop <- lapply(vars, function(v) {
  m <- marg[marg$peer_variable == v, ]
  d <- data.frame(m$category, m$total)
  names(d) <- c(v, "Freq")
  d
})
samp <- lapply(vars, function(v) as.formula(paste0("~", v)))
# rake() stops when weighted margin counts change by less than epsilon (a count):
# the smallest population total times the relative tolerance of sid and svy.
eps <- tol * min(marg$total)
ctl <- list(maxit = 1000, epsilon = eps, verbose = FALSE)

taylor_vars <- c("idx_language", "idx_discrimination", "idx_inclusion", "dutch_home")
table_means <- c("idx_language", "idx_discrimination", "idx_inclusion", "idx_religiosity",
                 "idx_citizenship", "dutch_home")

# SE() of svyby on a replicate design is a data frame (domains x variables): flatten it
# column by column, the order of coef().
se_vec <- function(x) as.vector(as.matrix(SE(x)))
tidy_mean <- function(v, all, by) {
  rbind(
    data.frame(variable = v, group = "ALL", category = "", estimate = unname(coef(all)),
               se = se_vec(all)),
    data.frame(variable = v, group = as.character(by$origin), category = "",
               estimate = unname(coef(by)), se = se_vec(by))
  )
}
# Proportions as means of 0/1 indicators of each category (missing where the variable
# is): the same estimator as svymean(~factor(v)), which svyby on a replicate design
# cannot tabulate when a category is empty in a domain.
add_indicators <- function(df, v, lev) {
  for (k in lev) df[[paste0(v, "_", k)]] <- ifelse(is.na(df[[v]]), NA_real_, as.numeric(df[[v]] == k))
  df
}
tidy_prop <- function(v, lev, all, by) {
  nb <- strsplit(names(coef(by)), ":", fixed = TRUE)
  rbind(
    data.frame(variable = v, group = "ALL", category = lev, estimate = unname(coef(all)),
               se = se_vec(all)),
    data.frame(variable = v, group = vapply(nb, `[`, "", 1),
               category = sub(paste0("^", v, "_"), "", vapply(nb, `[`, "", 2)),
               estimate = unname(coef(by)), se = se_vec(by))
  )
}
means <- function(des, vs) {
  lapply(vs, function(v) {
    f <- as.formula(paste0("~", v))
    list(v, svymean(f, des, na.rm = TRUE), svyby(f, ~origin, des, svymean, na.rm = TRUE))
  })
}

lang_levels <- sort(unique(na.omit(df$q_lang_home)))
df <- add_indicators(df, "q_lang_home", lang_levels)
lang_f <- as.formula(paste0("~", paste0("q_lang_home_", lang_levels, collapse = "+")))

timings <- list()
t <- system.time({
  des <- svydesign(ids = ~1, strata = ~origin, weights = ~design_weight, data = df)
  rk <- rake(des, samp, pop, control = ctl)
})
timings$rake <- unname(t["elapsed"])
writeBin(as.numeric(weights(rk)), file.path(out, "r_rake_weights.bin"))

t <- system.time(tay <- means(rk, taylor_vars))
timings$taylor <- unname(t["elapsed"])
est_taylor <- do.call(rbind, lapply(tay, function(x) tidy_mean(x[[1]], x[[2]], x[[3]])))

set.seed(20221)
t <- system.time({
  bdes <- as.svrepdesign(des, type = "subbootstrap", replicates = nrep)
  brk <- rake(bdes, samp, pop, control = ctl)
})
timings$bootstrap <- unname(t["elapsed"])
rm(bdes, brk)

n <- nrow(df)
con <- file(fac_bin, "rb")
fac <- matrix(readBin(con, "double", n * nrep), nrow = n, ncol = nrep)
close(con)
rw0 <- df$design_weight * fac
rm(fac)
t <- system.time({
  rdes <- svrepdesign(data = df, repweights = rw0, weights = ~design_weight, type = "bootstrap",
                      scale = 1 / (nrep - 1), rscales = rep(1, nrep), combined.weights = TRUE,
                      mse = FALSE)
  rrk <- rake(rdes, samp, pop, control = ctl)
})
timings$rerake <- unname(t["elapsed"])

t <- system.time({
  tab <- means(rrk, table_means)
  pall <- svymean(lang_f, rrk, na.rm = TRUE)
  pby <- svyby(lang_f, ~origin, rrk, svymean, na.rm = TRUE)
})
timings$tables <- unname(t["elapsed"])
est_tables <- rbind(
  do.call(rbind, lapply(tab, function(x) tidy_mean(x[[1]], x[[2]], x[[3]]))),
  tidy_prop("q_lang_home", lang_levels, pall, pby)
)

fwrite(est_taylor, file.path(out, "r_taylor.csv"))
fwrite(est_tables, file.path(out, "r_tables.csv"))
write_json(list(timings = timings, version = as.character(packageVersion("survey")),
                r = R.version.string, n = n),
           file.path(out, "r_timings.json"), auto_unbox = TRUE, digits = NA)
