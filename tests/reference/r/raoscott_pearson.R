# svychisq: the Pearson X^2 is of svytable(Ntotal = N) with N = nrow(design) (missing
# values included); F, ndf, ddf and p do not depend on N. ed: avg.ed in three classes
# (NA for the 26 schools without avg.ed).
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus1 <- update(dclus1, ed = cut(avg.ed, c(0, 2.5, 3, 5)))
f <- svychisq(~sch.wide + ed, dclus1)
x <- svychisq(~sch.wide + ed, dclus1, statistic = "Chisq")
write_ref(list(apiclus1_schwide_ed = list(F = unname(f$statistic), ndf = unname(f$parameter[1]),
  ddf = unname(f$parameter[2]), p = unname(f$p.value), pearson = unname(x$statistic),
  breaks = c(0, 2.5, 3, 5))), "raoscott_pearson")
