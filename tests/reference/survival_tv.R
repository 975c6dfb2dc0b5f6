# Reference numbers for tests/test_survival_cox.py: Cox with time-varying exposure in
# counting-process form, delayed entry, monthly ties, municipality clusters, strata.
# Data: tests/data/survival_tv.csv from tests/reference/survival_make_data.py.
# Run from the repository root: Rscript tests/reference/survival_tv.R
# Produced with R 4.2.2, survival 3.5-3 (output: tests/reference/survival_tv_cox.csv,
# survival_tv_zph.csv, survival_tv_km.csv).
library(survival)
d <- read.csv("tests/data/survival_tv.csv")
ctl <- coxph.control(eps = 1e-12, iter.max = 50)
out <- NULL
add <- function(f, model) {
  data.frame(model = model, term = names(coef(f)), coef = unname(coef(f)),
             se = sqrt(diag(f$naive.var)), robust_se = sqrt(diag(f$var)), loglik = f$loglik[2])
}
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(start, stop, event) ~ exposed + treated + female + age, data = d,
             ties = ties, cluster = municipality, control = ctl)
  out <- rbind(out, add(f, ties))
  g <- coxph(Surv(start, stop, event) ~ exposed + treated + age + strata(female), data = d,
             ties = ties, cluster = municipality, control = ctl)
  out <- rbind(out, add(g, paste0(ties, "_strata")))
  d$w <- 0.5 + (d$id %% 3) / 2
  h <- coxph(Surv(start, stop, event) ~ exposed + treated + female + age, data = d, weights = w,
             ties = ties, cluster = municipality, control = ctl)
  out <- rbind(out, add(h, paste0(ties, "_weighted")))
  if (ties == "efron") {
    z <- cox.zph(f, transform = "km")
    write.csv(data.frame(term = rownames(z$table), z$table), "tests/reference/survival_tv_zph.csv",
              row.names = FALSE)
  }
}
write.csv(out, "tests/reference/survival_tv_cox.csv", row.names = FALSE)
# Kaplan-Meier with delayed entry by treated, with medians
km <- survfit(Surv(start, stop, event) ~ treated, data = d, conf.type = "log-log")
s <- summary(km)
write.csv(data.frame(group = sub("treated=", "", as.character(s$strata)), time = s$time,
                     n_risk = s$n.risk, n_event = s$n.event, surv = s$surv,
                     std_err = s$std.err / s$surv, lower = s$lower, upper = s$upper),
          "tests/reference/survival_tv_km.csv", row.names = FALSE)
q <- quantile(km, probs = 0.5)
write.csv(data.frame(group = c("0", "1"), median = unname(q$quantile[, 1]),
                     lower = unname(q$lower[, 1]), upper = unname(q$upper[, 1])),
          "tests/reference/survival_tv_median.csv", row.names = FALSE)
