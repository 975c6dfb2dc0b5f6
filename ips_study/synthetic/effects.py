"""The IPS effect parameters of the synthetic registers (what ``truth.json`` is the truth of).

IPS acts only on people who enter the programme, and only while their programme episode is
active (from the first meeting to the end of the episode):

* ``job_hazard``: an extra monthly hazard of starting ordinary work, on top of the person's
  own job-finding hazard (a competing "the job specialist found a job" clock). With own
  hazard ``h0`` the implied hazard ratio of entering work is ``(h0 + job_hazard) / h0``.
* ``work_exit_hr``: hazard ratio of leaving work while followed by the job specialist
  (follow-along support).
* ``health_benefit_hr``: hazard ratio of entering work assessment allowance
  (arbeidsavklaringspenger) or disability pension (uføretrygd).

``spillover`` (default ``None``: none) adds an effect beyond the participants, on the
treated municipality's office practice (:class:`~ips_study.synthetic.spillover.Spillover`);
the published-design calibration at real scale uses it.

Example
-------
>>> Effects().implied_work_entry_hr(0.05)
4.0
>>> Effects.null().job_hazard
0.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .spillover import Spillover


@dataclass(frozen=True)
class Effects:
    """Effect sizes of IPS on programme participants (see module docstring)."""

    job_hazard: float = 0.15
    work_exit_hr: float = 1.0
    health_benefit_hr: float = 0.7
    spillover: Spillover | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.job_hazard < 1.0:
            raise ValueError("job_hazard must be in [0, 1)")
        if self.work_exit_hr <= 0 or self.health_benefit_hr <= 0:
            raise ValueError("hazard ratios must be positive")

    @classmethod
    def null(cls) -> "Effects":
        """No effect at all: the factual and counterfactual registers coincide."""
        return cls(job_hazard=0.0, work_exit_hr=1.0, health_benefit_hr=1.0)

    def implied_work_entry_hr(self, baseline_hazard: float) -> float:
        """Hazard ratio of entering work for a participant whose own hazard is ``baseline_hazard``."""
        return round((baseline_hazard + self.job_hazard) / baseline_hazard, 10)

    def to_dict(self) -> dict:
        # without a spill-over the dict is the one the embedded truth.json has always held
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "spillover"}
        if self.spillover is not None:
            out["spillover"] = self.spillover.to_dict()
        return out
