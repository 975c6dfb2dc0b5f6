"""Evaluation of the PyPI package ``honestdid`` 0.1.1 on HonestDiD's README example
(docs/dependencies.md). Not a test dependency: run it in a separate venv, e.g.
    python3.11 -m venv /work/peers/honest && /work/peers/honest/bin/pip install honestdid==0.1.1
    /work/peers/honest/bin/python tests/reference/honestdid_pypi_check.py
Observed (2026-12-03): the relative-magnitudes call stops with
"TypeError: only 0-dimensional arrays can be converted to Python scalars" (core.py:1021);
the smoothness FLCI gives lb/ub within 5e-5 of the R package (M = 0: 0.025989, 0.060697).
"""
import time, numpy as np, pandas as pd, honestdid as hd
ref = "tests/reference/"
b = pd.read_csv(ref + "honestdid_ehec_betahat.csv")["betahat"].to_numpy()
S = pd.read_csv(ref + "honestdid_ehec_sigma.csv").to_numpy()
t = time.time()
try:
    print(hd.createSensitivityResults_relativeMagnitudes(betahat=b, sigma=S, numPrePeriods=5, numPostPeriods=2, Mbarvec=[0.5, 1, 1.5, 2]))
except Exception as e:
    print("RM failed:", type(e).__name__, e)
print("RM s", time.time() - t); t = time.time()
try:
    print(hd.createSensitivityResults(betahat=b, sigma=S, numPrePeriods=5, numPostPeriods=2, Mvec=[0, .01, .02, .03, .04, .05]))
except Exception as e:
    print("SD failed:", type(e).__name__, e)
print("SD s", time.time() - t)
