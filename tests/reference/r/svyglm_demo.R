# svyglm on sid's demo wave (tests/reference/demo_glm.csv: `sid run` with its defaults,
# then open_wave(out, variance = "taylor").design.data[[stratum, weight, origin,
# generation, sex, age, region, dutch_home, idx_language]], 7,578 respondents in 7
# strata). Taylor: the final weights as design weights within strata; replicate: 20
# Canty-Davison bootstrap replicates drawn by R, whose factors (times drawn, integers)
# are written so that sid uses the same replicates.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
here <- if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r"
source(file.path(here, "common.R"))
set.seed(2022)
demo <- read.csv(file.path(here, "..", "demo_glm.csv"))
d <- svydesign(id = ~1, strata = ~stratum, weights = ~weight, data = demo)
b <- as.svrepdesign(d, type = "bootstrap", replicates = 20)
fit_ref <- function(m, test) {
  s <- summary(m)$coefficients
  w <- regTermTest(m, test)
  list(names = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]), t = unname(s[, 3]),
       p = unname(s[, 4]), df = m$df.residual,
       wald = list(terms = paste(deparse(test), collapse = ""), F = unname(as.vector(w$Ftest)), ndf = w$df,
                   ddf = w$ddf, p = unname(as.vector(w$p))))
}
lin <- idx_language ~ origin + factor(sex) + age + factor(region)
logit <- dutch_home ~ origin + age + factor(sex)
write_ref(list(
  taylor_linear = fit_ref(svyglm(lin, d), ~factor(region)),
  taylor_logit = fit_ref(svyglm(logit, d, family = quasibinomial), ~origin),
  boot = list(scale = b$scale, rscales = unname(b$rscales),
              factors = unname(round(weights(b, "analysis") / demo$weight)),
              linear = fit_ref(svyglm(lin, b), ~factor(region)),
              logit = fit_ref(svyglm(logit, b, family = quasibinomial), ~origin))
), "svyglm_demo")
