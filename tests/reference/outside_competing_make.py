"""Data for tests/test_outside_survival.py's check against R (outside_competing.R).

Competing risks in whole months with many ties and two rows at time 0 (one an event of
cause 1), the case where ips.fine_gray used to refuse a (0, 0] interval. Run:
``python tests/reference/outside_competing_make.py`` (writes outside_competing.csv).
"""
import pathlib

import numpy as np
import pandas as pd

rng = np.random.default_rng(2026)
n = 40
out = pd.DataFrame({"maaned": rng.integers(0, 12, n).astype(float),
                    "utfall": rng.choice([0, 1, 2], n, p=[.3, .4, .3]),
                    "x": rng.normal(size=n).round(2),
                    "gruppe": rng.choice(["a", "b"], n)})
out.to_csv(pathlib.Path(__file__).with_name("outside_competing.csv"), index=False)
