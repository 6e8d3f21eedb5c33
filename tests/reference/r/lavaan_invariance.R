# Multi-group CFA chi-squares (lavaan ML: covariances with divisor n) of one factor over
# x1, x2, x3, x9 of HolzingerSwineford1939 by school; the items are written so that sid
# computes its own moments from the data.
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
suppressPackageStartupMessages(library(lavaan))
d <- HolzingerSwineford1939
model <- "f =~ x1 + x2 + x3 + x9"
fit <- function(...) fitMeasures(cfa(model, d, group = "school", std.lv = TRUE, meanstructure = TRUE, ...),
                                 c("chisq", "df", "cfi", "rmsea"))
write_ref(list(lavaan_version = as.character(packageVersion("lavaan")),
  data = list(school = as.character(d$school), x1 = d$x1, x2 = d$x2, x3 = d$x3, x9 = d$x9),
  configural = as.list(fit()), metric = as.list(fit(group.equal = "loadings")),
  scalar = as.list(fit(group.equal = c("loadings", "intercepts")))), "lavaan_invariance")
