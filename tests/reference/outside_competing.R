# Reference numbers for tests/test_outside_survival.py: cmprsk::crr and cmprsk::cuminc on
# outside_competing.csv (whole months, ties, two rows at time 0).
# Run: Rscript tests/reference/outside_competing.R   (writes outside_competing_out.csv)
library(cmprsk)
here <- dirname(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE)))
d <- read.csv(file.path(here, "outside_competing.csv"))
fit <- crr(d$maaned, d$utfall, cov1 = cbind(x = d$x, gruppeb = as.numeric(d$gruppe == "b")),
           failcode = 1, cencode = 0)
ci <- cuminc(d$maaned, d$utfall, group = d$gruppe, cencode = 0)
tp <- timepoints(ci, c(0, 3, 6, 9))
rows <- data.frame(
  name = c("crr_x", "crr_gruppeb", "crr_se_x", "crr_se_gruppeb",
           "gray_stat_cause1", "gray_p_cause1",
           paste0("cif_a_1_t", c(0, 3, 6, 9)), paste0("cif_b_1_t", c(0, 3, 6, 9)),
           paste0("var_a_1_t", c(0, 3, 6, 9))),
  value = c(fit$coef, sqrt(diag(fit$var)), ci$Tests[1, "stat"], ci$Tests[1, "pv"],
            tp$est["a 1", ], tp$est["b 1", ], tp$var["a 1", ]))
write.csv(rows, file.path(here, "outside_competing_out.csv"), row.names = FALSE)
print(rows, digits = 12)
