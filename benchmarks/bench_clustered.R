# The clustered benchmark's tasks in R's survey package (called by benchmarks/clustered.py):
#   Rscript bench_clustered.R <respondents.csv> <margins.csv> <out dir> <tasks, comma-separated>
# Timed with system.time inside R (start-up and CSV reading not counted).
# rake:    svydesign(ids=~psu, strata=~origin, nest=TRUE, weights=~design_weight) + rake()
#          on origin_sex, origin_age_band, origin_region.
# taylor:  svymean / svyby(~origin) of y1, y2, y3, yes on the raked design.
# bootR:   as.svrepdesign(type="subbootstrap", replicates=R) + rake() + the same means.
# jkn:     as.svrepdesign(type="JKn") + rake() + the same means (deterministic: compared).
suppressPackageStartupMessages({
  library(survey)
  library(data.table)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
resp_csv <- args[1]; marg_csv <- args[2]; out <- args[3]
tasks <- strsplit(args[4], ",", fixed = TRUE)[[1]]
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
ctl <- list(maxit = 1000, epsilon = tol * min(marg$total), verbose = FALSE)
yv <- c("y1", "y2", "y3", "yes")
se_vec <- function(x) as.vector(as.matrix(SE(x)))
means <- function(des) {
  do.call(rbind, lapply(yv, function(v) {
    f <- as.formula(paste0("~", v))
    a <- svymean(f, des, na.rm = TRUE)
    b <- svyby(f, ~origin, des, svymean, na.rm = TRUE)
    rbind(data.frame(variable = v, group = "ALL", category = "", estimate = unname(coef(a)), se = se_vec(a)),
          data.frame(variable = v, group = as.character(b$origin), category = "",
                     estimate = unname(coef(b)), se = se_vec(b)))
  }))
}
timings <- list()
des <- svydesign(ids = ~psu, strata = ~origin, nest = TRUE, weights = ~design_weight, data = df)
t <- system.time(rk <- rake(des, samp, pop, control = ctl))
if ("rake" %in% tasks) {
  timings$rake <- unname(t["elapsed"])
  writeBin(as.numeric(weights(rk)), file.path(out, "r_rake_weights.bin"))
}
if ("taylor" %in% tasks) {
  t <- system.time(est <- means(rk))
  timings$taylor <- unname(t["elapsed"])
  fwrite(est, file.path(out, "r_taylor.csv"))
}
set.seed(20221)
for (task in tasks[grepl("^boot", tasks)]) {
  nrep <- as.integer(sub("boot", "", task))
  t <- system.time({
    b <- rake(as.svrepdesign(des, type = "subbootstrap", replicates = nrep), samp, pop, control = ctl)
    est <- means(b)
  })
  timings[[task]] <- unname(t["elapsed"])
  rm(b); gc()
}
if ("jkn" %in% tasks) {
  t <- system.time({
    j <- rake(as.svrepdesign(des, type = "JKn"), samp, pop, control = ctl)
    est <- means(j)
  })
  timings$jkn <- unname(t["elapsed"])
  fwrite(est, file.path(out, "r_jkn.csv"))
}
write_json(list(timings = timings, version = as.character(packageVersion("survey")), r = R.version.string),
           file.path(out, "r_timings.json"), auto_unbox = TRUE, digits = NA)
