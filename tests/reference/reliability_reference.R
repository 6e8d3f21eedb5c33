# reliability_reference.json: psych's alpha, scoreItems and omega on bfi, and survey's
# svycralpha on apistrat.
#
# Reconstructed script (the original was not kept): it computes every key of the shipped
# reliability_reference.json (see README.md in this folder). Run it with R, psych,
# psychTools, GPArotation (for omega), survey and jsonlite installed (Debian: r-base-core
# r-cran-psych r-cran-psychtools r-cran-gparotation r-cran-survey r-cran-jsonlite):
#
#   Rscript tests/reference/reliability_reference.R [OUT.json]
#
# bfi comes from psychTools' data(bfi) (its 25 items; bfi.csv beside this script is
# write.csv(bfi[, 1:25], row.names = FALSE)); without psychTools the script reads bfi.csv,
# which holds the same values. apistrat comes from the survey package's data(api). It
# writes OUT.json (default: reliability_reference.new.json beside it, so the shipped
# reference is never overwritten); with R 4.2.2, psych 2.2.9 and survey 4.1.1 (Debian
# bookworm) the output is byte-identical to reliability_reference.json.

suppressPackageStartupMessages({
  library(psych)
  library(survey)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
here <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference"
})
out <- if (length(args) >= 1) args[1] else file.path(here, "reliability_reference.new.json")

items <- c(paste0("A", 1:5), paste0("C", 1:5), paste0("E", 1:5), paste0("N", 1:5),
           paste0("O", 1:5))
if (requireNamespace("psychTools", quietly = TRUE)) {
  data(bfi, package = "psychTools")
  bfi <- bfi[, items]
  written <- tempfile(fileext = ".csv")
  write.csv(bfi, written, row.names = FALSE)
  if (!identical(readLines(written), readLines(file.path(here, "bfi.csv"))))
    warning("bfi.csv differs from write.csv(psychTools::bfi[, 1:25], row.names = FALSE)")
} else {
  bfi <- read.csv(file.path(here, "bfi.csv"))
}
data(api, package = "survey")
# psych's notes (printed, messages, warnings) about the fits below are expected: silence them
quiet <- function(expr) {
  utils::capture.output(value <- suppressMessages(suppressWarnings(expr)))
  value
}

agree <- bfi[, paste0("A", 1:5)]
ref <- list(
  psych_version = as.character(packageVersion("psych")),
  survey_version = as.character(packageVersion("survey"))
)

# -- alpha of the agreeableness items, A1 reversed (7 - x), pairwise covariances --------
a <- alpha(agree, keys = "A1")
ref$bfi_agree_alpha_A1_reversed <- list(
  items = names(agree),
  reversed = "A1",
  item_min = 1,
  item_max = 6,
  missing = "pairwise covariances",
  raw_alpha = a$total$raw_alpha,
  std_alpha = a$total$std.alpha,
  average_r = a$total$average_r,
  alpha_if_dropped = unname(a$alpha.drop$raw_alpha),
  item_rest_r_drop = unname(a$item.stats$r.drop)
)
complete <- na.omit(agree)
a <- alpha(complete, keys = "A1")
ref$bfi_agree_alpha_complete_cases <- list(
  n = nrow(complete), raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha
)

# -- scale scores: mean of the available items, no imputation ---------------------------
keys <- list(
  agree = c("-A1", "A2", "A3", "A4", "A5"),
  conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
  extraversion = c("-E1", "-E2", "E3", "E4", "E5"),
  neuroticism = c("N1", "N2", "N3", "N4", "N5"),
  openness = c("O1", "-O2", "O3", "O4", "-O5")
)
s <- scoreItems(keys, bfi, impute = "none", min = 1, max = 6)
ref$bfi_scale_scores_mean_of_available_items <- list(
  keys = keys,
  item_min = 1,
  item_max = 6,
  alpha = as.list(s$alpha[1, ]),
  mean_score = as.list(colMeans(s$scores, na.rm = TRUE)),
  first5_agree = unname(s$scores[1:5, "agree"])
)

# -- omega total of a one-factor model of the agreeableness items ------------------------
# (omega says omega_h is not meaningful for one factor: only omega_t is kept)
o <- quiet(omega(agree, nfactors = 1, plot = FALSE))
ref$bfi_agree_omega_total_one_factor <- o$omega.tot

# -- Cronbach's alpha with sampling weights (survey::svycralpha) --------------------------
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
api_items <- c("ell", "mobility", "avg.ed", "emer", "meals")
ref$apistrat_weighted_alpha <- list(
  items = api_items,
  weight = "pw",
  svycralpha = unname(svycralpha(~ell + mobility + avg.ed + emer + meals, dstrat)),
  # psych warns that avg.ed correlates negatively with the total; no item is reversed
  unweighted = quiet(alpha(apistrat[, api_items]))$total$raw_alpha
)

write_json(ref, out, auto_unbox = TRUE, digits = NA, pretty = TRUE)
cat("wrote", out, "\n")
