# Reference numbers for tests/test_survival_cox.py and tests/test_survival_km.py (Rossi data).
# Run from the repository root: Rscript tests/reference/survival_rossi.R
# Produced with R 4.2.2, survival 3.5-3 (outputs: tests/reference/survival_rossi_*.csv).
library(survival)
d <- read.csv("tests/data/rossi.csv")
d$id <- seq_len(nrow(d))
out <- NULL
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = d,
             ties = ties, cluster = id, control = coxph.control(eps = 1e-12, iter.max = 50))
  out <- rbind(out, data.frame(ties = ties, term = names(coef(f)), coef = unname(coef(f)),
                               se = sqrt(diag(f$naive.var)), robust_se = sqrt(diag(f$var)),
                               loglik = f$loglik[2]))
  for (tr in c("km", "identity")) {
    z <- cox.zph(f, transform = tr)
    tab <- data.frame(ties = ties, transform = tr, term = rownames(z$table), z$table)
    write.csv(tab, sprintf("tests/reference/survival_rossi_zph_%s_%s.csv", ties, tr), row.names = FALSE)
    if (ties == "efron") {
      sr <- data.frame(time = z$time, x = z$x, unname(z$y))
      names(sr)[-(1:2)] <- names(coef(f))
      write.csv(sr, sprintf("tests/reference/survival_rossi_schoenfeld_%s.csv", tr), row.names = FALSE)
    }
  }
}
write.csv(out, "tests/reference/survival_rossi_cox.csv", row.names = FALSE)
# Kaplan-Meier by financial aid, log-log bands, and the log-rank test
km <- survfit(Surv(week, arrest) ~ fin, data = d, conf.type = "log-log")
s <- summary(km)
write.csv(data.frame(group = sub("fin=", "", as.character(s$strata)), time = s$time,
                     n_risk = s$n.risk, n_event = s$n.event, surv = s$surv, std_err = s$std.err / s$surv,
                     lower = s$lower, upper = s$upper),
          "tests/reference/survival_rossi_km.csv", row.names = FALSE)
lr <- survdiff(Surv(week, arrest) ~ fin, data = d)
lr3 <- survdiff(Surv(week, arrest) ~ interaction(fin, mar), data = d)
write.csv(data.frame(test = c("fin", "fin_mar"), chisq = c(lr$chisq, lr3$chisq),
                     df = c(1, length(lr3$n) - 1)),
          "tests/reference/survival_rossi_logrank.csv", row.names = FALSE)
# medians need a curve that crosses 0.5: age groups on prio-rich subset is not needed; use
# the whole sample's curve on a time scale where it crosses (arrest within 52 weeks rarely
# reaches 0.5), so the test uses survival_tv instead (see survival_tv.R)
