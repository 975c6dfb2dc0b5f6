# Reference numbers for tests/test_honest.py from the R package HonestDiD's own README example
# (Medicaid expansion, "ehec" data: Rambachan & Roth, https://github.com/asheshrambachan/HonestDiD,
# README.Rmd sections "Sensitivity analysis using relative magnitudes restrictions",
# "... using smoothness restrictions", "... for average effects" and "Regressions with controls").
#
# HonestDiD itself is not installable here (not in Debian; only Debian R packages are allowed),
# so nothing below calls it. The published outputs are read at full precision from the knitr
# cache that the HonestDiD repository commits next to its README (README_cache/gfm/*.rdb,
# written when the authors knitted README.Rmd with HonestDiD); they agree with the README's
# printed tables to the printed digits. The inputs:
# * the 7 event-study coefficients and their covariance WITH the illustrative control are stored
#   in the cache (chunk 8) as the authors passed them to HonestDiD;
# * those WITHOUT the control (the README's main example) are not cached, so they are refitted
#   here from the cached data frame `df_nonstaggered` as the README does with
#   fixest::feols(dins ~ i(year, D, ref = 2013) | stfips + year, cluster = "stfips"):
#   OLS with state and year dummies, CR1 with fixest's small-sample factor
#   G/(G-1) * (n-1)/(n-K), K = slopes + 8 year levels (state effects nested in the cluster are
#   not counted). The same code reproduces the cached covariance of the control version to
#   1.2e-14 relative, and the refitted inputs give the README's original CI for l = (.5, .5)
#   (cached: [0.040369952510776089, 0.075283077128191364]) to 5e-16.
#
# Run (base R only) with the HonestDiD repository checked out at commit 6813f02:
#   Rscript tests/reference/honestdid_ehec.R /path/to/HonestDiD tests/reference
args <- commandArgs(trailingOnly = TRUE)
repo <- args[1]; out <- args[2]
ld <- function(ch) {
  e <- new.env()
  f <- list.files(file.path(repo, "README_cache/gfm"), pattern = paste0("^unnamed-chunk-", ch, "_.*rdx$"))
  lazyLoad(file.path(repo, "README_cache/gfm", sub(".rdx$", "", f)), envir = e)
  e
}
wr <- function(x, name) write.csv(x, file.path(out, name), row.names = FALSE)
e8 <- ld(8)
d <- as.data.frame(lapply(as.data.frame(e8$df_nonstaggered), as.numeric))
yrs <- c(2008:2012, 2014:2015)
for (y in yrs) d[[paste0("ev", y)]] <- as.numeric(d$year == y) * d$D
fit_cr1 <- function(with_control) {
  f <- as.formula(paste("dins ~", paste0("ev", yrs, collapse = "+"),
                        if (with_control) "+ control" else "", "+ factor(stfips) + factor(year)"))
  m <- lm(f, data = d); X <- model.matrix(m); u <- resid(m)
  XtXi <- solve(crossprod(X)); G <- length(unique(d$stfips)); n <- nrow(X)
  S <- rowsum(X * u, d$stfips); V <- XtXi %*% crossprod(S) %*% XtXi
  nm <- c(paste0("ev", yrs), if (with_control) "control")
  k <- length(nm) + 8
  list(b = coef(m)[nm], V = V[nm, nm] * G / (G - 1) * (n - 1) / (n - k))
}
ctrl <- fit_cr1(TRUE)
cat("control version, max relative difference to the cached sigma:",
    max(abs(ctrl$V[1:7, 1:7] - e8$sigma)) / max(abs(e8$sigma)), "\n")
main <- fit_cr1(FALSE)
options(digits = 17)
wr(data.frame(event_year = yrs, betahat = unname(main$b)), "honestdid_ehec_betahat.csv")
wr(unname(main$V), "honestdid_ehec_sigma.csv")
wr(data.frame(event_year = yrs, betahat = unname(e8$betahat)), "honestdid_ehec_control_betahat.csv")
wr(unname(e8$sigma), "honestdid_ehec_control_sigma.csv")
# knitr chunks 4, 6, 7, 8 were cached when the README was knitted at commit 99e05c7 (2024-03-28);
# chunk 5 is older (commit fa4ce02, 2022-09-14, HonestDiD of that date) and holds the same RM
# sensitivity for Mbar 0..2: the two versions differ by up to 3.4e-4 (one grid step) for the
# same inputs, which shows the package's own grid/simulation noise.
rm_first <- as.data.frame(ld(4)$delta_rm_results)   # l_vec = first post period, Mbar 0.5..2
rm_2022 <- as.data.frame(ld(5)$delta_rm_results)    # same, Mbar 0..2, 2022 cache
sd_first <- as.data.frame(ld(6)$delta_sd_results)   # l_vec = first post period, M 0..0.05
rm_avg <- as.data.frame(ld(7)$delta_rm_results_avg) # l_vec = (.5, .5), Mbar 0..2
orig_avg <- as.data.frame(ld(7)$originalResults_avg)
res <- rbind(
  data.frame(example = "main", target = "first", delta = "RM", method = rm_first$method, m = rm_first$Mbar, lb = rm_first$lb, ub = rm_first$ub),
  data.frame(example = "main2022", target = "first", delta = "RM", method = rm_2022$method, m = rm_2022$Mbar, lb = rm_2022$lb, ub = rm_2022$ub),
  data.frame(example = "main", target = "first", delta = "SD", method = sd_first$method, m = sd_first$M, lb = sd_first$lb, ub = sd_first$ub),
  data.frame(example = "main", target = "average", delta = "RM", method = rm_avg$method, m = rm_avg$Mbar, lb = rm_avg$lb, ub = rm_avg$ub),
  data.frame(example = "main", target = "average", delta = "none", method = "Original", m = NA, lb = orig_avg$lb, ub = orig_avg$ub))
# the control version's SD table is printed in the README only (3 significant digits)
res <- rbind(res, data.frame(example = "control", target = "first", delta = "SD", method = "FLCI",
  m = seq(0, 0.05, by = 0.01), lb = c(0.0264, 0.0128, 0.00186, -0.00814, -0.0181, -0.0281),
  ub = c(0.0607, 0.0788, 0.0908, 0.101, 0.111, 0.121)))
wr(res, "honestdid_ehec_expected.csv")
