# Reference numbers for tests/test_staggered.py (R_DID, ATT(2004,2004), ATT(2004,2006)).
#
# Provenance: the numbers in the test are those published for this script in the R `did`
# documentation (Callaway & Sant'Anna, did 2.x) and recorded in shared/reference-data/README.md.
# R `did` is not installable on the project machine (no CRAN access), so this script was not
# re-run here; it is kept so anyone with R can regenerate the numbers:
#   Rscript tests/reference/mpdta_did.R
library(did)
data(mpdta)
out <- att_gt(yname = "lemp", tname = "year", idname = "countyreal", gname = "first.treat",
              data = mpdta)          # defaults: est_method = "dr", base_period = "varying",
                                     # control_group = "nevertreated", no covariates
print(cbind(out$group, out$t, out$att))
for (type in c("simple", "group", "dynamic", "calendar")) {
  a <- aggte(out, type = type, bstrap = FALSE)
  cat(type, sprintf("%.7f", a$overall.att), sprintf("%.7f", a$overall.se), "\n")
}
