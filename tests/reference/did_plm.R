# Reference numbers for tests/test_did.py from R plm + sandwich.
# Run from the repository root: Rscript tests/reference/did_plm.R
# Versions used: R 4.x (Debian r-base-core), plm 2.6.2, sandwich 3.0.2.
#
# Small-sample conventions (stated, each program's own):
# * person-level (person + year effects), clustered by municipality: plm has no clustering
#   by a variable other than the panel index, so the within-transformed data of the plm fit
#   are passed to lm() and sandwich::vcovCL(cluster = ~municipality, type = "HC1"), whose
#   factor is G/(G-1) * (n-1)/(n-k) with k = number of slopes ("stata" convention).
# * municipality aggregate, unweighted (municipality + year effects): plm's own
#   vcovHC(cluster = "group", type = "sss") = G/(G-1) * (n-1)/(n-k), k = slopes.
# * municipality aggregate weighted by n_persons: plm gives the estimate but its vcovHC does not
#   support weights, so the SE is from lm() with municipality and year dummies, weights
#   n_persons, and vcovCL(cluster = ~municipality, type = "HC0", cadjust = TRUE): factor
#   G/(G-1) only. The estimate is lm's too: plm's weighted two-way within transformation does
#   not reproduce weighted least squares with both sets of dummies (printed below: 5.3216 vs
#   5.3091 on this panel), so plm is not used for that row.
suppressPackageStartupMessages({library(plm); library(sandwich)})

person_case <- function(file, formula, label) {
  d <- read.csv(file, colClasses = c(person_id = "character", municipality = "character",
                                     period = "character"))
  d$treated_post <- d$treated * d$post
  m <- plm(formula, data = d, index = c("person_id", "period"), model = "within",
           effect = "twoways")
  X <- model.matrix(m); y <- pmodel.response(m)
  # rows of the transformed data are in the order of the plm model frame
  idx <- attr(model.frame(m), "index")
  key <- paste(d$person_id, d$period)
  mun <- d$municipality[match(paste(idx[[1]], idx[[2]]), key)]
  l <- lm(y ~ X - 1)
  V <- vcovCL(l, cluster = mun, type = "HC1")
  data.frame(case = label, term = "treated_post", estimate = unname(coef(m)["treated_post"]),
             std_error = sqrt(V[1, 1]), convention = "vcovCL HC1 on within data")
}

agg <- read.csv("tests/reference/did_panel_aggregate.csv",
                colClasses = c(municipality = "character", period = "character"))
agg$treated_post <- agg$treated * agg$post
ma <- plm(workdays ~ treated_post, data = agg, index = c("municipality", "period"),
          model = "within", effect = "twoways")
Va <- vcovHC(ma, cluster = "group", type = "sss")
mw <- plm(workdays ~ treated_post, data = agg, index = c("municipality", "period"),
          model = "within", effect = "twoways", weights = n_persons)
lw <- lm(workdays ~ treated_post + factor(municipality) + factor(period), data = agg,
         weights = n_persons)
Vw <- vcovCL(lw, cluster = ~municipality, type = "HC0", cadjust = TRUE)

out <- rbind(
  person_case("tests/reference/did_panel_balanced.csv", workdays ~ treated_post, "balanced"),
  person_case("tests/reference/did_panel_balanced.csv", workdays ~ treated_post + x,
              "balanced_x"),
  person_case("tests/reference/did_panel_unbalanced.csv", workdays ~ treated_post,
              "unbalanced"),
  data.frame(case = "aggregate", term = "treated_post",
             estimate = unname(coef(ma)["treated_post"]), std_error = sqrt(Va[1, 1]),
             convention = "plm vcovHC sss"),
  data.frame(case = "aggregate_weighted", term = "treated_post",
             estimate = unname(coef(lw)["treated_post"]),
             std_error = sqrt(Vw["treated_post", "treated_post"]),
             convention = "lm dummies + vcovCL HC0 G/(G-1)"))
print(c(plm_weighted = coef(mw)["treated_post"], lm_weighted = coef(lw)["treated_post"]), digits = 12)
write.csv(out, "tests/reference/did_plm_output.csv", row.names = FALSE)
print(out, digits = 12)
