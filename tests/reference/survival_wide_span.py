"""Write tests/data/cox_wide_span.csv: 200 rows, hazard exp(8 x), x ~ U(-3, 3), fixed seed.

The linear predictor spans about 48; its Cox MLE is finite (R: 8.128876694093, see
tests/reference/survival_api.R). Run from the repository root:
``python tests/reference/survival_wide_span.py``.
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(0)
n = 200
x = rng.uniform(-3, 3, n)
t = rng.exponential(np.exp(-8 * x))
c = rng.exponential(3 * np.exp(-8 * x))
pd.DataFrame({"x": x, "time": np.minimum(t, c), "event": (t <= c).astype(int)}).to_csv(
    "tests/data/cox_wide_span.csv", index=False, float_format="%.17g")
