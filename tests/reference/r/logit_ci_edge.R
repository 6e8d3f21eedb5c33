# svyciprop(method = "logit") at p = 1 and p = 0: R fits the quasibinomial intercept
# until glm stops, and its Wald interval on the logit scale maps to [~1, 1] and [0, ~0].
f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
source(file.path(if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r", "common.R"))
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
p1 <- suppressWarnings(svyciprop(~I(api00 > 0), dstrat, method = "logit"))
p0 <- suppressWarnings(svyciprop(~I(api00 < 0), dstrat, method = "logit"))
write_ref(list(apistrat_p1 = list(estimate = unname(as.vector(p1)), ci = unname(attr(p1, "ci"))),
               apistrat_p0 = list(estimate = unname(as.vector(p0)), ci = unname(attr(p0, "ci")))),
          "logit_ci_edge")
