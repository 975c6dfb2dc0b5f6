"""Reference ATT(g,t) on mpdta with covariate lpop, from the Python peer package csdid.

R ``did`` is not installable on the project machine, so the covariate-adjusted numbers
(est_method dr / ipw / reg, never-treated controls, varying base period, analytic SEs) come
from csdid 0.4.3 (drdid 1.1.7), a port of R did/DRDID. Printed with 10 significant digits and
pasted into tests/test_staggered.py.

Run: .venv/bin/python tests/reference/mpdta_csdid_covariates.py   (needs pip install csdid)
"""
import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
from csdid.att_gt import ATTgt

df = pd.read_csv(Path(__file__).parents[1] / "data" / "mpdta.csv")
for est in ["dr", "ipw", "reg"]:
    with contextlib.redirect_stdout(io.StringIO()):
        out = ATTgt(yname="lemp", gname="first.treat", idname="countyreal", tname="year",
                    xformla="lemp~lpop", data=df).fit(est_method=est, bstrap=False)
    att = np.asarray(out.results["att"], float)
    se = np.asarray(out.results["se"], float)
    print(est, "att", [float(f"{v:.10g}") for v in att])
    print(est, "se ", [float(f"{v:.10g}") for v in se])
