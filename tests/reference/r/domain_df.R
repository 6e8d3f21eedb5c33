# Degrees of freedom of by-domain intervals: svyby(..., svyciprop) and svyquantile use
# degf() of the domain's design (PSUs with a respondent in the domain - strata); means:
# confint(svymean(subset), df = degf(subset)) (svyby's own confint for svymean uses df=Inf).
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
out <- list()
for (k in c("E", "H", "M")) {
  sub <- subset(dclus1, stype == k)
  m <- svymean(~api00, sub)
  pl <- svyciprop(~I(sch.wide == "Yes"), sub, method = "logit")
  pb <- svyciprop(~I(sch.wide == "Yes"), sub, method = "beta")
  q <- svyquantile(~api00, sub, 0.5, ci = TRUE)
  out[[k]] <- list(degf = degf(sub),
    mean_api00 = list(estimate = unname(coef(m)), se = unname(SE(m))[1], ci = unname(as.vector(confint(m, df = degf(sub))))),
    prop_yes_logit = list(estimate = unname(as.vector(pl)), ci = unname(attr(pl, "ci"))),
    prop_yes_beta = list(estimate = unname(as.vector(pb)), ci = unname(attr(pb, "ci"))),
    median_api00 = list(estimate = unname(q$api00[1, 1]), ci = unname(q$api00[1, 2:3]), se = unname(q$api00[1, 4])))
}
# svyby gives the same intervals as the subsets
by <- svyby(~I(sch.wide == "Yes"), ~stype, dclus1, svyciprop, method = "logit", vartype = "ci")
out$svyby_prop_yes_logit <- list(ci_l = unname(by$ci_l), ci_u = unname(by$ci_u))
# replicate designs: a subset's degf is recomputed, the rank of its replicate weights - 1
rclus1 <- as.svrepdesign(dclus1, type = "JK1")
rep <- list()
for (k in c("E", "H", "M")) {
  sub <- subset(rclus1, stype == k)
  pl <- svyciprop(~I(sch.wide == "Yes"), sub, method = "logit")
  rep[[k]] <- list(degf = degf(sub), ci = unname(attr(pl, "ci")))
}
write_ref(list(apiclus1_by_stype = out, apiclus1_jk1_by_stype = rep), "domain_df")
