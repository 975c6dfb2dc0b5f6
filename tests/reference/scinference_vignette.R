# Reference data for tests/test_conformal.py: the simulated example of the vignette of the R
# package scinference (Chernozhukov, Wüthrich & Zhu; https://github.com/kwuthrich/scinference,
# doc/vignette_scinference.html, "A simple example"). Only the data are regenerated here, with
# base R's generator exactly as the vignette does; scinference itself is not run (it is not in
# Debian). The vignette prints these p-values for H0: theta = (4, 4, 4, 4, 4):
#   sc,  moving block 0.01818182    did, moving block 0.03636364
#   did, iid 0.02979404             sc,  iid 0.00579884   (5000 random permutations)
# Run from the repository root: Rscript tests/reference/scinference_vignette.R
set.seed(12345)
J <- 50; T0 <- 50; T1 <- 5
w <- rep(0, J); w[1:3] <- 1/3
Y0 <- matrix(rnorm((T0 + T1) * J), (T0 + T1), J)
Y1 <- Y0 %*% w + rnorm(T0 + T1)
Y1[(T0 + 1):(T0 + T1)] <- Y1[(T0 + 1):(T0 + T1)] + 2
out <- data.frame(period = 1:(T0 + T1), y1 = as.vector(Y1), Y0)
names(out)[3:(J + 2)] <- paste0("c", 1:J)
write.csv(out, "tests/reference/scinference_vignette_data.csv", row.names = FALSE)
