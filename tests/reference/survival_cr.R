# Reference numbers for tests/test_survival_competing.py: Aalen-Johansen cumulative incidence
# with variances and Gray's test (cmprsk::cuminc), Fine-Gray regression (cmprsk::crr) and the
# weighted Cox fit on the extended data (survival::finegray + coxph, robust SE).
# Data: tests/data/survival_cr.csv from tests/reference/survival_make_data.py.
# Run from the repository root: Rscript tests/reference/survival_cr.R
# Produced with R 4.2.2, survival 3.5-3, cmprsk 2.2-11.
library(survival)
library(cmprsk)
d <- read.csv("tests/data/survival_cr.csv")
ci <- cuminc(d$time, d$status, d$group)
rows <- NULL
for (nm in names(ci)[names(ci) != "Tests"]) {
  p <- strsplit(nm, " ")[[1]]
  rows <- rbind(rows, data.frame(group = p[1], cause = p[2], time = ci[[nm]]$time,
                                 est = ci[[nm]]$est, var = ci[[nm]]$var))
}
write.csv(rows, "tests/reference/survival_cr_cuminc.csv", row.names = FALSE)
write.csv(data.frame(cause = rownames(ci$Tests), ci$Tests), "tests/reference/survival_cr_gray.csv",
          row.names = FALSE)
X <- cbind(x1 = d$x1, x2 = d$x2)
f <- crr(d$time, d$status, X, failcode = 1, cencode = 0, gtol = 1e-12, maxiter = 50)
d$fstatus <- factor(d$status, 0:2, labels = c("censor", "one", "two"))
d$id <- seq_len(nrow(d))
fg <- finegray(Surv(time, fstatus) ~ ., data = d, etype = "one")
cf <- coxph(Surv(fgstart, fgstop, fgstatus) ~ x1 + x2, data = fg, weights = fgwt,
            cluster = id, ties = "breslow", control = coxph.control(eps = 1e-12, iter.max = 50))
write.csv(data.frame(term = c("x1", "x2"), crr_coef = unname(f$coef), crr_se = sqrt(diag(f$var)),
                     fg_coef = unname(coef(cf)), fg_robust_se = sqrt(diag(cf$var)),
                     fg_se = sqrt(diag(cf$naive.var))),
          "tests/reference/survival_cr_finegray.csv", row.names = FALSE)
