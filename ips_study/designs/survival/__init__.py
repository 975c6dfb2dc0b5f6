"""Survival models of long-term benefit dependence (designs ``km``, ``cox``, ``cuminc``,
``finegray``, ``dthazard``).

Time to onset of long-term benefit dependence (disability pension, uføretrygd, or the 12th
consecutive month of a health-related benefit) from the index date, with sustained work as a
competing event (data contract, section 4), from a person-MONTH panel:

* :mod:`.tte` — episodes in counting-process form with time-varying exposure;
* :mod:`.km` — Kaplan–Meier, Greenwood bands, risk tables, medians, log-rank;
* :mod:`.cox` — Cox model (Efron/Breslow, strata, delayed entry, Lin–Wei cluster SEs, PH test);
* :mod:`.competing` — Aalen–Johansen CIF, Gray's test, Fine–Gray;
* :mod:`.dthazard` — discrete-time hazard difference-in-differences;
* :mod:`.fitters` — the public entry points on any DataFrame (``ips_study.cox``,
  ``kaplan_meier``, ``cumulative_incidence``, ``fine_gray``, ``discrete_hazard``).

>>> from ips_study.designs import get_design
>>> get_design("cox").__name__
'fit_cox_panel'
"""

from .competing import cumulative_incidence, fine_gray, finegray_data, gray_test
from .cox import CoxPH, ZPH
from .dthazard import person_months
from .fitters import (CurveResults, SurvivalRegressionResults, cox, discrete_hazard,
                      kaplan_meier)
from .km import at_times, km_by_group, km_curve, logrank_test, median_survival, risk_table
from .panel_fit import (CoxResults, CumincResults, KMResults, fit_cox_panel, fit_cuminc_panel,
                        fit_dthazard, fit_dthazard_panel, fit_finegray_panel, fit_km_panel)
from .tte import EVENTS, PanelFrequencyError, build_tte, person_level

__all__ = [
    "CoxPH", "ZPH", "CoxResults", "CumincResults", "KMResults", "EVENTS", "PanelFrequencyError",
    "build_tte", "person_level", "km_curve", "km_by_group", "logrank_test", "median_survival",
    "risk_table", "cumulative_incidence", "gray_test", "fine_gray", "finegray_data",
    "fit_dthazard", "person_months", "fit_km_panel", "fit_cox_panel", "fit_cuminc_panel",
    "fit_finegray_panel", "fit_dthazard_panel", "at_times", "cox", "kaplan_meier",
    "discrete_hazard", "CurveResults", "SurvivalRegressionResults",
]
