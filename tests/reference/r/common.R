# Shared by the scripts in this folder: each computes the R figures of one comparison and
# writes <name>.json beside itself (or to the path given as its first argument).
#
#   Rscript tests/reference/r/<name>.R [OUT.json]
#
# or all at once from the repository root into folder OUT (what the tests do):
#
#   SID_REF_OUT=OUT Rscript -e 'for (s in setdiff(list.files("tests/reference/r", "[.]R$"), "common.R"))
#                                 source(file.path("tests/reference/r", s), local = new.env())'
#
# R 4.2 with survey 4.1.1, lavaan 0.6 and jsonlite (Debian: r-base-core r-cran-survey
# r-cran-lavaan r-cran-jsonlite). Designs are built on the survey package's own data(api),
# of which tests/reference/api*.csv are write.csv copies.
suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
data(api, package = "survey")

ref_out <- function(name) {
  # SID_REF_OUT (a folder): where tests/test_reference_scripts.py has every script write
  if (nzchar(Sys.getenv("SID_REF_OUT"))) return(file.path(Sys.getenv("SID_REF_OUT"), paste0(name, ".json")))
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) >= 1) return(args[1])
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  here <- if (length(f) == 1) dirname(normalizePath(f)) else "tests/reference/r"
  file.path(here, paste0(name, ".json"))
}

write_ref <- function(x, name) {
  x$r_version <- R.version.string
  x$survey_version <- as.character(packageVersion("survey"))
  writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, null = "null", na = "null"), ref_out(name))
}

source_common <- function() invisible(NULL)
