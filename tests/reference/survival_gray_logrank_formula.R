# Reference numbers for tests/test_survival_formula_weights.py (session 5, issue #18):
#  1. Gray's test with a group that is never at risk (all its rows censored before the first
#     event). cmprsk::cuminc returns statistic -1 (undefined) there; the test without that
#     group is what ips_study's generalised inverse must give (df = rank = 1).
#  2. The weighted log-rank test: with integer case weights it must equal survdiff on the
#     rows repeated `w` times (R's survdiff takes no weights); coxph's score test with the
#     same weights is printed for comparison (Breslow variance, no tie correction).
#  3. coxph with a formula (factor and log terms) on lung, for ips.cox(formula=...).
# Run from the repository root: Rscript tests/reference/survival_gray_logrank_formula.R
# Produced with Debian's R 4.2.2, survival 3.5-3, cmprsk 2.2-11.
library(survival)
library(cmprsk)
options(digits = 15)
out <- "tests/reference/"

# 1. Gray's test, group c never at risk
set.seed(1)
n <- 60
ftime <- round(rexp(n, 0.1), 1) + 1
fstatus <- sample(0:2, n, replace = TRUE, prob = c(.3, .4, .3))
group <- rep(c("a", "b"), each = 30)
ftime <- c(ftime, rep(0.5, 5)); fstatus <- c(fstatus, rep(0, 5)); group <- c(group, rep("c", 5))
d <- data.frame(time = ftime, status = fstatus, group = group)
write.csv(d, paste0(out, "survival_gray_never_at_risk.csv"), row.names = FALSE)
all3 <- cuminc(d$time, d$status, d$group)$Tests
two <- cuminc(d$time[d$group != "c"], d$status[d$group != "c"], d$group[d$group != "c"])$Tests
print(all3)
res <- data.frame(cause = c(1, 2), stat_all_groups = all3[, "stat"], stat_without_c = two[, "stat"],
                  p_without_c = two[, "pv"], df_without_c = two[, "df"])
write.csv(res, paste0(out, "survival_gray_never_at_risk_tests.csv"), row.names = FALSE)

# 2. weighted log-rank on lung by sex, w = 1 + (row number mod 3)
lung <- read.csv("tests/data/lung.csv")
lung$w <- 1 + (seq_len(nrow(lung)) %% 3)
rep_lung <- lung[rep(seq_len(nrow(lung)), lung$w), ]
sd <- survdiff(Surv(time, status == 2) ~ sex, data = rep_lung)
cb <- coxph(Surv(time, status == 2) ~ factor(sex), data = lung, weights = w, ties = "breslow")
lr <- data.frame(what = c("survdiff_repeated_chisq", "observed_1", "observed_2", "expected_1",
                          "expected_2", "coxph_breslow_weighted_score"),
                 value = c(sd$chisq, sd$obs, sd$exp, cb$score))
print(lr)

# 3. coxph with a formula on lung (ph.ecog has one missing value: that row is dropped)
f <- coxph(Surv(time, status == 2) ~ ph.ecog + factor(sex) + log(age), data = lung,
           control = coxph.control(eps = 1e-12, iter.max = 50))
cx <- data.frame(what = c(paste0("coef_", names(coef(f))), paste0("se_", names(coef(f))), "n",
                          "nevent"),
                 value = c(coef(f), sqrt(diag(vcov(f))), f$n, f$nevent))
print(cx)
write.csv(rbind(lr, cx), paste0(out, "survival_logrank_weights_formula.csv"), row.names = FALSE)
