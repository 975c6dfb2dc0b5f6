"""Tiny person-period panel in the ips_study.panel format, for the design tests.

Municipality x year outcomes follow a factor model (unit effect + year effect + unit-specific
loading on a common factor) plus persistent person effects and person-year noise; a constant effect ``effect`` is added in
every exposed municipality-year. Municipality ``1804`` adopts in 2013; ``staggered=True``
lets others adopt in 2015 and 2017.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def make_panel(*, n_munis: int = 16, persons: int = 60, effect: float = 5.0,
               staggered: bool = False, heterogeneous_trends: bool = True,
               seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2008, 2020)
    codes = ["1804"] + [f"{1810 + i:04d}" for i in range(n_munis - 1)]
    alpha = rng.normal(40, 6, n_munis)
    alpha[0] = np.median(alpha[1:])            # inside the donors' hull, as SC needs
    # unit-specific loadings break parallel trends (SC/SDID handle it, DiD-type designs not)
    loading = rng.uniform(0.5, 1.5, n_munis) if heterogeneous_trends else np.ones(n_munis)
    loading[0] = 1.0
    factor = np.cumsum(rng.normal(0, 1.5, len(years)))
    year_fx = np.linspace(0, 4, len(years))
    start = {codes[0]: 2013}
    if staggered:
        # a third of the others adopt in 2015, a third in 2017: groups of several units, since
        # an analytic SE from a one-unit group misses that unit's own variance
        k = (n_munis - 1) // 3
        for c in codes[1:1 + k]:
            start[c] = 2015
        for c in codes[1 + k:1 + 2 * k]:
            start[c] = 2017
    # the same persons every year (a closed cohort), with persistent person effects
    person_fx = rng.normal(0, 10, (n_munis, persons))
    birth_age = rng.integers(18, 30, (n_munis, persons))
    rows = []
    for m, code in enumerate(codes):
        for y_i, year in enumerate(years):
            exposed = int(code in start and year >= start[code])
            mu = alpha[m] + year_fx[y_i] + loading[m] * factor[y_i] + effect * exposed
            y = mu + person_fx[m] + rng.normal(0, 11, persons)
            ids = [f"p{m}_{k}" for k in range(persons)]
            rows.append(pd.DataFrame({
                "person_id": ids, "municipality": code, "period": str(year),
                "period_start": pd.Timestamp(f"{year}-01-01"),
                "treated": np.int8(code == "1804"), "post": np.int8(year >= 2013),
                "ips_start": pd.Series(pd.Timestamp(f"{start[code]}-01-01") if code in start
                                       else pd.NaT, index=range(persons), dtype="datetime64[ns]"),
                "exposed": np.int8(exposed), "event_time": year - 2013,
                "age": birth_age[m] + y_i, "sex": np.where(np.arange(persons) % 2, "F", "M"),
                "months_observed": 12, "workdays": y, "employed": (y > 45).astype(float)}))
    return pd.concat(rows, ignore_index=True)
