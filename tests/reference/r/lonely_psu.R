# Lonely PSUs under options(survey.lonely.psu = "adjust" / "remove" / "certainty").
# survey 4.1 onestrat(): a stratum with one design PSU is not centred under "adjust" (its
# PSU total enters as it is, times f), at every stage; "remove" and "certainty" centre it
# at itself (nothing). Two-stage apiclus2 made to have lonely units at both stages:
# stratum A holds district 15 alone (10 districts in A, 747 in B), and districts 63 and
# 117 (one sampled school each) get fpc2 = 3 and 2.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
a <- apiclus2
a$st <- ifelse(a$dnum == 15, "A", "B")
a$fpc1 <- ifelse(a$st == "A", 10, 747)
a$fpc2[a$dnum == 63] <- 3
a$fpc2[a$dnum == 117] <- 2
one <- function(rule) {
  options(survey.lonely.psu = rule)
  d <- svydesign(id = ~dnum + snum, strata = ~st, fpc = ~fpc1 + fpc2, data = a)
  m <- svymean(~api00, d); t <- svytotal(~enroll, d, na.rm = TRUE)
  b <- svyby(~api00, ~stype, d, svymean)
  list(mean_api00 = list(estimate = unname(coef(m)), se = unname(SE(m))[1]),
       total_enroll = list(estimate = unname(coef(t)), se = unname(SE(t))[1]),
       mean_api00_by_stype = list(stype = as.character(b$stype), estimate = unname(coef(b)), se = unname(SE(b))))
}
# one-stage stratified: apistrat with a fourth stratum holding one school
s <- apistrat
s$st <- as.character(s$stype); s$st[1] <- "X"; s$fpc[1] <- 50
one_strat <- function(rule) {
  options(survey.lonely.psu = rule)
  d <- svydesign(id = ~1, strata = ~st, weights = ~pw, fpc = ~fpc, data = s)
  m <- svymean(~api00, d)
  list(estimate = unname(coef(m)), se = unname(SE(m))[1])
}
res <- list(apiclus2_lonely = list(adjust = one("adjust"), remove = one("remove"), certainty = one("certainty")),
            apistrat_lonely_mean_api00 = list(adjust = one_strat("adjust"), remove = one_strat("remove")))
options(survey.lonely.psu = "fail")
write_ref(res, "lonely_psu")
