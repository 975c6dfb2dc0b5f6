"""An IPS effect beyond the participants: the treated NAV office's follow-up practice.

The default :class:`~ips_study.synthetic.effects.Effects` act only on programme participants
(about a hundred in Bodø in the first two years). A published analysis of the same setting
measures the effect on *everyone* aged 18-40 on work assessment allowance (arbeidsavklarings-
penger, AAP) in Bodø, +5.6 workdays per person-year over four years, and +10.5 in the fourth
year (data contract, section 1). Participants alone cannot carry that: at real scale the
generator's participant effect gives that group +0.3 (about 100 participants, about 300 young
AAP recipients on 1 January of each year; about 570 once the share on AAP is calibrated to
NAV's, ``real_scale.AAP_ENTRY_HR``). A :class:`Spillover` is the
option for that calibration (``published_design_effects`` in
:mod:`ips_study.synthetic.real_scale`).

Why an effect beyond participants is plausible for a *thorough* implementation (the
"Kom i jobb" model, data contract sections 1 and 6): NAV Bodø was one of the three partners,
so the job specialists worked inside the office that follows up every AAP recipient; the
office's counsellors adopt the work-first practice (early job search, employer contacts, the
specialists' employer network, less waiting for treatment to finish) for young AAP recipients
in general, not only for those formally referred. Such a change of office practice starts once
the team is working (``lag_months`` after the IPS start) and spreads gradually, so its strength
then ramps up over ``ramp_months``.

Mechanism: from the treated municipality's IPS start, every person resident there, aged
``age_min``-``age_max`` and on work assessment allowance, has the monthly hazard of moving
from it to ordinary work multiplied by ``work_hr ** min(1, k / ramp_months)``, where ``k``
counts the months from ``lag_months`` after the start (the first such month counting one;
none before). It acts in the factual world
only; the counterfactual world is the same persons with the office practice unchanged (common
random numbers), so the truth includes it.

Example
-------
>>> s = Spillover(work_hr=1.5, ramp_months=48)
>>> round(s.multiplier(23), 4)
1.2247
>>> Spillover(work_hr=1.5, ramp_months=12, lag_months=6).multiplier(5)
1.0
>>> Spillover().multiplier(100)
1.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spillover:
    """Office-practice effect on the AAP-to-work hazard in the treated municipality (module doc).

    Parameters
    ----------
    work_hr : float
        Hazard ratio of leaving work assessment allowance for ordinary work at full strength
        (1: no spill-over).
    ramp_months : int
        Months from the first month with a spill-over until full strength (linear on the
        log-hazard scale); 0: full strength at once.
    lag_months : int
        Months after the IPS start before the practice reaches anyone beyond participants.
    age_min, age_max : int
        Ages (completed years) the practice applies to: the programme's band.
    """

    work_hr: float = 1.0
    ramp_months: int = 0
    lag_months: int = 0
    age_min: int = 18
    age_max: int = 40

    def __post_init__(self) -> None:
        if self.work_hr <= 0:
            raise ValueError("Spillover: work_hr must be positive")
        if self.ramp_months < 0 or self.lag_months < 0:
            raise ValueError("Spillover: ramp_months and lag_months must be non-negative")
        if self.age_min > self.age_max:
            raise ValueError("Spillover: age_min must not exceed age_max")

    @property
    def active(self) -> bool:
        return self.work_hr != 1.0

    def multiplier(self, months_since_start: int) -> float:
        """Hazard multiplier in the ``months_since_start``-th month (0 = the start month)."""
        k = months_since_start - self.lag_months + 1
        if k < 1 or not self.active:
            return 1.0
        frac = 1.0 if self.ramp_months == 0 else min(1.0, k / self.ramp_months)
        return float(np.exp(np.log(self.work_hr) * frac))

    def to_dict(self) -> dict[str, float]:
        return {"work_hr": self.work_hr, "ramp_months": self.ramp_months, "lag_months": self.lag_months,
                "age_min": self.age_min, "age_max": self.age_max}
