# Replicates whose estimate is NA (a bootstrap replicate that draws no PSU of a domain)
# are discarded by svrVar with the warning "k replicates gave NA results and were
# discarded."; the variance uses the others (scale unchanged). Domain: districts 413,
# 406 and 778 of apiclus1 (5 schools in 3 of the 15 PSUs). The replicate factors
# (times drawn) are written so that sid uses the same replicates.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
set.seed(20141)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus1 <- update(dclus1, dom = dnum %in% c(413, 406, 778))
r <- as.svrepdesign(dclus1, type = "bootstrap", replicates = 100)
fac <- round(weights(r, "analysis") / apiclus1$pw, 10)
warned <- NULL
b <- withCallingHandlers(svyby(~api00, ~dom, r, svymean),
  warning = function(w) { warned <<- c(warned, conditionMessage(w)); invokeRestart("muffleWarning") })
dropped <- sum(colSums(fac[apiclus1$dnum %in% c(413, 406, 778), ]) == 0)
write_ref(list(apiclus1_boot_domain = list(scale = r$scale, rscales = unname(r$rscales), factors = unname(fac),
  dom = as.character(b$dom), estimate = unname(coef(b)), se = unname(SE(b)), warnings = warned,
  dropped = dropped)), "na_replicates")
