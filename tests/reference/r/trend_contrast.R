# Reference figures for the trend 2017 -> 2022 (tests/test_trend_reference.py): the two
# waves' designs built as sid builds them, each wave's estimates per domain, stacked, and
# the differences by svycontrast on the stacked estimates (block-diagonal vcov: the waves
# are independent samples).
#   2017 (trend2017_sample.csv, trend2017_margins.csv; Taylor on the clustered design):
#     svydesign(ids = ~psu_1 + psu_2, strata = ~stratum, weights = ~prior_weight, nest = TRUE)
#     rake() on the three within-group margins, to convergence
#   2022 (trend2022_sample.csv.gz, trend2022_design.json; the weighting's replicates):
#     svrepdesign(weights = ~weight, repweights = "^rep_[0-9]+$", type, scale, rscales, mse,
#                 combined.weights = TRUE)
#   harmonised by hand as questionnaires/harmonisation.yaml says: idx_taal / idx_language
#   (mean), nl_thuis / dutch_home (share of 1), v_thuis_be (1-4; 3, 4 = agree) / q_belong_be
#   (1-5; 4, 5 = agree) as the share agreeing; domains overall, herkomst / origin,
#   herkomst_vlim / origin_vlim.
#   svyby(~y, ~domain, design, svymean, na.rm = TRUE[, covmat = TRUE]) per wave; the contrast
#   of each domain present in both waves: later - earlier; confint() with df = Inf (normal).
#
#   Rscript tests/reference/r/trend_contrast.R      # writes trend_contrast.json beside it
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
here <- if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r"  # sourced from the repo root
suppressPackageStartupMessages({library(survey); library(jsonlite)})

d17 <- read.csv(file.path(here, "trend2017_sample.csv"), stringsAsFactors = FALSE,
                colClasses = c(pseudo_id = "character", psu_2 = "character", herkomst = "character"))
pop <- read.csv(file.path(here, "trend2017_margins.csv"), stringsAsFactors = FALSE)
d22 <- read.csv(gzfile(file.path(here, "trend2022_sample.csv.gz")), stringsAsFactors = FALSE,
                colClasses = c(person_key = "character", origin = "character"))
info <- fromJSON(file.path(here, "trend2022_design.json"))

# harmonisation (rename and recode) by hand
d17 <- transform(d17, idx_language = idx_taal, dutch_home = nl_thuis,
                 belong_be = ifelse(v_thuis_be %in% c(3, 4), 1, 0), origin = herkomst, origin_vlim = herkomst_vlim)
d17$belong_be[is.na(d17$v_thuis_be)] <- NA
d22 <- transform(d22, belong_be = ifelse(q_belong_be %in% c(4, 5), 1, 0))
d22$belong_be[is.na(d22$q_belong_be)] <- NA
d17$all <- "all"; d22$all <- "all"

des17 <- svydesign(ids = ~psu_1 + psu_2, strata = ~stratum, weights = ~prior_weight, data = d17, nest = TRUE)
sample_margins <- lapply(c("m1", "m2", "m3"), function(m) as.formula(paste0("~", m)))
pop_margins <- lapply(c("m1", "m2", "m3"), function(m) {
  p <- pop[pop$margin == m, c("cell", "Freq")]; names(p) <- c(m, "Freq"); p })
des17 <- rake(des17, sample_margins, pop_margins, control = list(maxit = 500, epsilon = 1e-13, verbose = FALSE))
des22 <- svrepdesign(data = d22, weights = ~weight, repweights = "^rep_[0-9]+$", type = info$type,
                     scale = info$scale, rscales = info$rscales, mse = info$mse, combined.weights = TRUE)

# one wave's estimates by domain: svyby (covmat = TRUE), or svymean for the whole population
by_domain <- function(y, domain, des) {
  f <- as.formula(paste0("~", y))
  if (domain == "all") {
    m <- svymean(f, des, na.rm = TRUE)
    return(list(domain = "all", coef = unname(coef(m)), vcov = as.matrix(vcov(m))))
  }
  # survey 4.x: svyby(covmat = TRUE) fails on a raked (postStratify'd) design ("number of
  # items to replace is not a multiple of replacement length"): there the block is the
  # diagonal of the domains' variances. Each contrast takes one domain of each wave, so a
  # wave's covariances between its domains enter it with weight 0 (the replicate design
  # gives its full block, and the figures are the same).
  raked <- inherits(des, "survey.design2")
  b <- svyby(f, as.formula(paste0("~", domain)), des, svymean, na.rm = TRUE, covmat = !raked)
  V <- if (raked) diag(SE(b)^2, nrow = length(coef(b))) else as.matrix(vcov(b))
  list(domain = as.character(b[[domain]]), coef = unname(coef(b)), vcov = V)
}

stacked <- function(a, b) {
  est <- c(a$coef, b$coef)
  names(est) <- c(paste0("a.", a$domain), paste0("b.", b$domain))
  ka <- length(a$coef); kb <- length(b$coef)
  V <- matrix(0, ka + kb, ka + kb)
  V[seq_len(ka), seq_len(ka)] <- a$vcov
  V[ka + seq_len(kb), ka + seq_len(kb)] <- b$vcov
  dimnames(V) <- list(names(est), names(est))
  structure(est, var = V, statistic = "mean", class = "svystat")
}

trend <- function(y, domain) {
  a <- by_domain(y, domain, des17)
  b <- by_domain(y, domain, des22)
  da <- a$domain; db <- b$domain
  common <- intersect(da, db)
  st <- stacked(a, b)
  contrasts <- lapply(common, function(k) {
    v <- rep(0, length(st)); v[match(k, da)] <- -1; v[length(da) + match(k, db)] <- 1; v })
  names(contrasts) <- common
  con <- svycontrast(st, contrasts)
  ci <- confint(con)  # svystat: df = Inf
  z <- coef(con) / SE(con)
  list(domain = I(common),
       estimate_2017 = a$coef[match(common, da)], se_2017 = sqrt(diag(a$vcov))[match(common, da)],
       estimate_2022 = b$coef[match(common, db)], se_2022 = sqrt(diag(b$vcov))[match(common, db)],
       only_2022 = I(setdiff(db, da)), only_2017 = I(setdiff(da, db)),
       difference = unname(coef(con)), se = as.numeric(SE(con)), z = as.numeric(z),
       ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]), p = as.numeric(2 * pnorm(-abs(z))))
}

out <- list(r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
            design_2017 = "svydesign(ids=~psu_1+psu_2, strata=~stratum, weights=~prior_weight, nest=TRUE); rake(m1, m2, m3)",
            design_2022 = sprintf("svrepdesign(weights=~weight, repweights='^rep_[0-9]+$', type='%s', scale=%.17g, rscales=1, mse=%s)",
                                  info$type, info$scale, info$mse),
            contrast = "svycontrast on the stacked svyby estimates, block-diagonal vcov; confint df=Inf")
for (y in c("idx_language", "dutch_home", "belong_be")) {
  for (dom in c("all", "origin", "origin_vlim")) out[[paste(y, dom, sep = "_by_")]] <- trend(y, dom)
}
dest <- if (nzchar(Sys.getenv("SID_REF_OUT"))) file.path(Sys.getenv("SID_REF_OUT"), "trend_contrast.json") else
  file.path(here, "trend_contrast.json")
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), dest)
