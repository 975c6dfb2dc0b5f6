"""Reference numbers from pyfixest for tests/test_did.py (run from the repository root).

``.venv/bin/python tests/reference/did_pyfixest.py`` writes did_pyfixest_output.csv.
Versions: pyfixest 0.60.0, pandas 2.3. pyfixest's default small-sample convention for CRV1:
``ssc(k_adj=True, k_fixef="nonnested", G_adj=True)``, i.e. G/(G-1) * (n-1)/(n-k-k_fe) with
fixed effects nested in the clusters not counted (ips_study's ``small_sample="fixest"``).
"""
import numpy as np
import pandas as pd
import pyfixest as pf


def read(name):
    return pd.read_csv(f"tests/reference/did_panel_{name}.csv",
                       dtype={"person_id": str, "municipality": str, "period": str})


rows = []
for case, name, fml, kw in [
    ("balanced", "balanced", "workdays ~ treated_post | person_id + period", {}),
    ("balanced_x", "balanced", "workdays ~ treated_post + x | person_id + period", {}),
    ("unbalanced", "unbalanced", "workdays ~ treated_post | person_id + period", {}),
    ("aggregate_weighted", "aggregate", "workdays ~ treated_post | municipality + period",
     {"weights": "n_persons"}),
]:
    d = read(name)
    d["treated_post"] = (d["treated"] * d["post"]).astype(float)
    m = pf.feols(fml, data=d, vcov={"CRV1": "municipality"}, **kw)
    rows.append((case, "treated_post", m.coef()["treated_post"], m.se()["treated_post"]))

d = read("balanced")
d["et"] = np.clip(d["period"].astype(int) - 2013, -3, 2)
m = pf.feols("workdays ~ i(et, treated, ref=-1) | person_id + period", data=d,
             vcov={"CRV1": "municipality"})
for term, est, se in zip(m.coef().index, m.coef(), m.se()):
    k = term.split("::")[1].split(":")[0]
    rows.append(("event", f"event_{k}", est, se))
out = pd.DataFrame(rows, columns=["case", "term", "estimate", "std_error"])
out.to_csv("tests/reference/did_pyfixest_output.csv", index=False, float_format="%.15g")
print(out)
