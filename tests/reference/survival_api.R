# Reference numbers for tests/test_survival_api_r.py: the public fitters (ips.cox,
# ips.kaplan_meier, ips.cumulative_incidence, ips.fine_gray, ips.discrete_hazard) on data sets
# of R's survival package that the rest of the suite does not use: lung (R status coding
# 1 = censored / 2 = dead, missing covariates), veteran (a factor covariate, strata),
# heart (counting process with a cluster) and mgus2 (competing risks).
# Run from the repository root: Rscript tests/reference/survival_api.R
# Writes the data sets to tests/data/ and prints the numbers pasted into the test.
# Produced with Debian's R 4.2.2, survival 3.5-3, cmprsk 2.2-11.
library(survival)
library(cmprsk)
options(digits = 15)
ctl <- coxph.control(eps = 1e-12, iter.max = 50)

lung <- survival::lung[, c("inst", "time", "status", "age", "sex", "ph.ecog", "wt.loss")]
write.csv(lung, "tests/data/lung.csv", row.names = FALSE, na = "")
vet <- survival::veteran
write.csv(vet, "tests/data/veteran.csv", row.names = FALSE)
heart <- survival::heart[, c("id", "start", "stop", "event", "age", "surgery", "transplant")]
heart$transplant <- as.integer(as.character(heart$transplant))
write.csv(heart, "tests/data/heart.csv", row.names = FALSE)
m <- survival::mgus2
m$etime <- ifelse(m$pstat == 0, m$futime, m$ptime)
m$event <- ifelse(m$pstat == 0, 2 * m$death, 1)       # 0 censored, 1 PCM, 2 death
m <- m[, c("id", "age", "sex", "etime", "event")]
write.csv(m, "tests/data/mgus2.csv", row.names = FALSE)

show <- function(label, x) { cat(label, "\n"); print(x) }

# lung: Surv(time, status == 2); 1 row with missing ph.ecog dropped (R's na.action)
for (ties in c("efron", "breslow")) {
  f <- coxph(Surv(time, status == 2) ~ age + sex + ph.ecog, data = lung, ties = ties, control = ctl)
  show(paste("lung cox", ties, "n / events"), c(f$n, f$nevent))
  show("coef", coef(f)); show("se", sqrt(diag(vcov(f)))); show("loglik", f$loglik)
}
km <- survfit(Surv(time, status == 2) ~ sex, data = lung, conf.type = "log-log")
show("lung km sex at 100, 365, 700", summary(km, times = c(100, 365, 700))[c("surv", "lower", "upper", "n.risk")])
show("lung km medians", quantile(km, 0.5))
show("lung logrank by sex", survdiff(Surv(time, status == 2) ~ sex, data = lung)[c("obs", "exp", "chisq")])

# veteran: factor celltype (R's level order, squamous = reference), robust SE; strata
vet$id <- seq_len(nrow(vet))
f <- coxph(Surv(time, status) ~ trt + celltype + karno, data = vet, cluster = id, control = ctl)
show("veteran cox robust coef", coef(f)); show("robust se", sqrt(diag(f$var)))
show("model se", sqrt(diag(f$naive.var)))
f <- coxph(Surv(time, status) ~ trt + karno + strata(celltype), data = vet, control = ctl)
show("veteran cox strata coef", coef(f)); show("se", sqrt(diag(vcov(f))))
show("veteran logrank by celltype", survdiff(Surv(time, status) ~ celltype, data = vet)$chisq)

# heart: counting process with delayed entry, cluster by id
f <- coxph(Surv(start, stop, event) ~ age + surgery + transplant, data = heart, cluster = id,
           control = ctl)
show("heart cox cluster coef", coef(f)); show("cluster se", sqrt(diag(f$var)))
show("model se", sqrt(diag(f$naive.var)))
km <- survfit(Surv(start, stop, event) ~ 1, data = heart, conf.type = "log-log")
show("heart km at 50, 200, 1000", summary(km, times = c(50, 200, 1000))[c("surv", "lower", "upper")])

# mgus2: cumulative incidence of PCM (cause 1) by sex with Gray's test; Fine-Gray
ci <- cuminc(m$etime, m$event, group = m$sex, cencode = 0)
show("mgus2 gray", ci$Tests)
show("mgus2 cuminc at 60, 120, 240", timepoints(ci, c(60, 120, 240)))
X <- cbind(age = m$age, male = as.numeric(m$sex == "M"))
fg <- crr(m$etime, m$event, X, failcode = 1, cencode = 0)
show("mgus2 crr coef", fg$coef); show("crr se", sqrt(diag(fg$var)))

# lung person-periods (cut at 100, 200, 300, 400, 500, 700 days: every period has events),
# discrete-time hazard, logit and cloglog, clustered by inst; ECOG 3 (one person) merged into 2
d <- lung[complete.cases(lung[, c("inst", "ph.ecog")]), ]
d$id <- seq_len(nrow(d))
pp <- survSplit(Surv(time, status == 2) ~ ., data = d, cut = c(100, 200, 300, 400, 500, 700),
                episode = "k", event = "y")
pp$female <- as.numeric(pp$sex == 2)
pp$ecog <- factor(pmin(pp$ph.ecog, 2))
for (link in c("logit", "cloglog")) {
  g <- glm(y ~ female + age + ecog + factor(k), family = binomial(link = link), data = pp,
           control = glm.control(epsilon = 1e-12, maxit = 100))
  X <- model.matrix(g); N <- nrow(X); K <- ncol(X)
  mu <- fitted(g); eta <- predict(g)
  # score of the binomial GLM per row: x * (y - mu) * dmu/deta / (mu (1 - mu))
  dmu <- binomial(link = link)$mu.eta(eta)
  S <- X * ((pp$y - mu) * dmu / (mu * (1 - mu)))
  Sg <- rowsum(S, pp$inst); G <- nrow(Sg)
  bread <- vcov(g)                       # inverse expected information
  V <- bread %*% crossprod(Sg) %*% bread * G / (G - 1) * (N - 1) / (N - K)
  show(paste("lung person-periods", link, "N events clusters"), c(N, sum(pp$y), G))
  show("coef", coef(g)[c("female", "age", "ecog1", "ecog2")])
  show("cluster se (expected information)", sqrt(diag(V))[c("female", "age", "ecog1", "ecog2")])
  # the same sandwich around the observed information (statsmodels' convention): the
  # derivative of the per-row score in eta by central differences (exact for logit)
  s_eta <- function(e) { mu <- binomial(link = link)$linkinv(e)
                         (pp$y - mu) * binomial(link = link)$mu.eta(e) / (mu * (1 - mu)) }
  h <- 1e-5
  w_obs <- -(s_eta(eta + h) - s_eta(eta - h)) / (2 * h)
  bread_obs <- solve(crossprod(X, X * w_obs))
  V_obs <- bread_obs %*% crossprod(Sg) %*% bread_obs * G / (G - 1) * (N - 1) / (N - K)
  show("cluster se (observed information)", sqrt(diag(V_obs))[2:5])
}

# A simulated data set whose linear predictor spans about 48 (tests/data/cox_wide_span.csv,
# made by tests/reference/survival_wide_span.py): the MLE is finite. timefix = FALSE because
# the times span 1e-12 to 1e10 and R's default tie fix (aeqSurv) would merge the small ones.
w <- read.csv("tests/data/cox_wide_span.csv")
f <- coxph(Surv(time, event) ~ x, data = w, control = coxph.control(eps = 1e-12, iter.max = 100,
                                                                     timefix = FALSE))
show("wide span coef, se, loglik", c(coef(f), sqrt(vcov(f)), f$loglik[2]))

# Fine-Gray without censoring before the last event (tests/test_survival_api.py)
f <- crr(1:12, c(1, 2, 1, 2, 1, 2, 1, 1, 2, 1, 2, 1), cbind(x = c(0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0)),
         failcode = 1, cencode = 0)
show("no-censoring crr coef, se", c(f$coef, sqrt(diag(f$var))))

# log-rank with a group never at risk at an event time (tests/test_survival_api.py)
s <- survdiff(Surv(t, e) ~ g, data.frame(t = c(0.5, 0.6, 1, 2, 3, 4, 5, 6), e = c(0, 0, 1, 1, 0, 1, 1, 0),
                                        g = c("b", "b", "a", "a", "a", "c", "c", "c")))
show("degenerate log-rank chisq", s$chisq)
print(s)
