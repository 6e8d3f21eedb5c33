# Fay-Herriot reference figures for sid's tests (tests/test_smallarea_reference.py).
#
# Written from the formulas of Rao & Molina (2015), "Small Area Estimation", 2nd ed.,
# chapter 6, independently of sid's Python code: REML and ML fitted by Fisher scoring on
# sigma2_u with the explicit m x m matrix P (sid uses trace identities instead), every
# step truncated at 0, started at median(psi); MSE by Prasad-Rao (REML: g1 + g2 + 2 g3)
# and Datta-Lahiri (ML: g1 + g2 + 2 g3 - b_ML * (1 - gamma)^2).
# Base R and jsonlite only.
#
# Data: fay_herriot.csv beside this script, 40 areas, made by this script with
# set.seed(13) when it is absent (columns area, y, psi, x1, x2); a second data set
# ("flat", same x and psi, y without area effects and shrunk to the fit) makes REML
# truncate sigma2_u at 0.
#
#   Rscript tests/reference/r/fay_herriot.R [OUT.json]   (default: fay_herriot.new.json beside it)

suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
csv <- file.path(here, "fay_herriot.csv")
out <- if (length(args) >= 1) args[1] else file.path(here, "fay_herriot.new.json")

if (!file.exists(csv)) {
  set.seed(13, kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
  m <- 40
  x1 <- round(runif(m, 0, 1), 4)
  x2 <- round(rnorm(m, 0, 1), 4)
  psi <- round(runif(m, 0.5, 3), 4)
  v <- rnorm(m, 0, sqrt(1.5))
  e <- rnorm(m, 0, sqrt(psi))
  y <- round(10 + 3 * x1 - 1 * x2 + v + e, 4)
  # "flat": no area effects and sampling errors scaled down: REML sigma2_u < 0 -> 0
  y_flat <- round(10 + 3 * x1 - 1 * x2 + 0.4 * e, 4)
  write.csv(data.frame(area = sprintf("A%02d", 1:m), y = y, y_flat = y_flat, psi = psi, x1 = x1, x2 = x2),
            csv, row.names = FALSE)
}
d <- read.csv(csv)
X <- cbind(1, d$x1, d$x2)

fh <- function(y, psi, X, method, tol = 1e-10, maxit = 100) {
  m <- length(y)
  s2 <- median(psi)
  for (it in 1:maxit) {
    Vi <- diag(1 / (s2 + psi))
    A <- t(X) %*% Vi %*% X
    P <- Vi - Vi %*% X %*% solve(A) %*% t(X) %*% Vi
    if (method == "REML") {
      score <- -0.5 * sum(diag(P)) + 0.5 * as.numeric(t(y) %*% P %*% P %*% y)
      info <- 0.5 * sum(diag(P %*% P))
    } else {
      beta <- solve(A, t(X) %*% Vi %*% y)
      r <- y - X %*% beta
      score <- -0.5 * sum(diag(Vi)) + 0.5 * sum((r / (s2 + psi))^2)
      info <- 0.5 * sum(diag(Vi)^2)
    }
    new <- max(0, s2 + score / info)
    step <- abs(new - s2)
    s2 <- new
    if (step <= tol * max(1, s2)) break
  }
  V <- s2 + psi
  Vi <- diag(1 / V)
  Ainv <- solve(t(X) %*% Vi %*% X)
  beta <- as.numeric(Ainv %*% t(X) %*% Vi %*% y)
  g <- s2 / V
  xb <- as.numeric(X %*% beta)
  eblup <- g * y + (1 - g) * xb
  g1 <- g * psi
  g2 <- (1 - g)^2 * rowSums((X %*% Ainv) * X)
  vbar <- 2 / sum(1 / V^2)
  g3 <- psi^2 / V^3 * vbar
  mse <- g1 + g2 + 2 * g3
  if (method == "ML") {
    b <- -sum(diag(Ainv %*% t(X) %*% diag(1 / V^2) %*% X)) / sum(1 / V^2)
    mse <- mse - b * (1 - g)^2
  }
  list(sigma2_u = s2, beta = beta, eblup = eblup, mse = mse, gamma = g,
       g1 = g1, g2 = g2, g3 = g3, iterations = it,
       synthetic_mse = rowSums((X %*% Ainv) * X) + s2)
}

res <- list(
  note = paste("Fay-Herriot fits of fay_herriot.csv by fay_herriot.R (Rao & Molina 2015, ch. 6):",
               "REML/ML Fisher scoring truncated at 0, start median(psi), tol 1e-10; X = (1, x1, x2)"),
  r_version = R.version.string,
  REML = fh(d$y, d$psi, X, "REML"),
  ML = fh(d$y, d$psi, X, "ML"),
  flat_REML = fh(d$y_flat, d$psi, X, "REML"),
  flat_ML = fh(d$y_flat, d$psi, X, "ML")
)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE), out)
