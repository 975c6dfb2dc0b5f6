"""Programme metrics from the IPS quality register (kvalitetsregister for jobbspesialistene).

The "Kom i jobb" report's Table 3 and the method supervisor's weekly and quarterly figures
come from two programme tables (data contract, section 2): ``ips_caseload`` (one row per job-seeker
*episode* with a job specialist, jobbspesialist) and ``specialist_weeks`` (one weekly
activity report per specialist). This module computes them at any reference date ``D``.

Definitions (shared with the synthetic generator, which calibrates to them)
---------------------------------------------------------------------------
Everything is computed from what was known at ``D``: dates after ``D`` count as not yet
happened.

``ever_offered``
    Distinct persons with ``referral_date <= D`` (job seekers ever offered IPS).
``active``
    Persons with an episode with ``start_date <= D`` and (``end_date`` empty or ``> D``).
``in_work`` / ``share_in_work``
    Active persons with ``job_start_date <= D`` in an episode of their current stay in the
    service (transfers continue a stay; a re-referral after ending starts a new one), and
    that count divided by ``active`` (share of the active caseload in ordinary paid work). With the
    ``employment`` register given, "in work" instead means an employment spell that counts
    as work (``fte > 0`` and ``monthly_wage > 0``) covers ``D``.
``days_to_job_search``
    ``first_employer_contact_date - start_date`` in days (time in the service before active
    job search starts), over persons with ``start_date <= D`` and a contact date ``<= D``;
    the person's earliest start and earliest contact are used. Median and mean.
``days_to_first_meeting``
    ``start_date - referral_date`` in days for the person's first meeting with a job
    specialist (the episode with the earliest start), over persons with ``start_date <= D``.
    Median and mean.
``employer_meetings``
    Mean (and median) of ``employer_meetings`` over specialist-weeks with ``week_start`` in
    ``(D - 91 days, D]`` (the quarter before ``D``).
``community_share``
    ``sum(hours_in_community) / sum(hours_worked)`` over the same specialist-weeks.
``caseload_per_specialist``
    Active persons per specialist holding at least one active case at ``D`` (mean and
    maximum; the IPS fidelity scale allows at most 20).

Several episodes of one person (transfers between specialists)
---------------------------------------------------------------
All metrics count **persons**, never episodes. A transfer to another specialist is a new
episode of the same person; the episode that ends with a transfer reason (see
:func:`classify_end_reason`) does not end the person's time in the service, and a person
whose new episode has been opened but not yet started is still active. Stock measures
(active, in work, caseload) are attributed to the specialist and service of the person's
*current* episode (the active episode with the latest start); intake measures (ever
offered, days to first meeting, days to job search) to the specialist and service of the
*first* episode. A person re-referred after ending is still one person ever offered.
Specialist-week measures by service use each specialist's main service (the service of
most of their episodes).

Example
-------
>>> import pandas as pd
>>> cl = pd.DataFrame({"person_id": ["a", "b"], "specialist_id": ["s1", "s1"],
...     "service": ["psychosis", "municipal"], "referral_date": ["2014-01-01", "2014-02-01"],
...     "start_date": ["2014-01-11", "2014-02-05"], "first_employer_contact_date": [None, None],
...     "job_start_date": ["2014-05-01", None], "end_date": [None, None], "end_reason": [None, None]})
>>> m = caseload_metrics(cl, date="2014-09-30")
>>> m.set_index(["metric", "statistic"]).loc[("share_in_work", "share"), "value"]
np.float64(0.5)
"""

from __future__ import annotations

from .episodes import (CASELOAD_LIMIT, END_REASONS, REPORT_TABLE_3, classify_end_reason,
                       person_status, quarter_end)
from .flow import outcome_flow, outcome_flow_by_quarter, plot_outcome_flow, protect_flow
from .followup import (absent_specialists, flag_absent_specialist, flag_caseload_above_limit,
                       flag_long_without_work, team_list)
from .metrics import caseload_metrics, metrics_by_quarter, table_3
from .protect import protect_metrics
from .report import quarterly_report

__all__ = [
    "CASELOAD_LIMIT", "END_REASONS", "REPORT_TABLE_3", "absent_specialists",
    "caseload_metrics", "classify_end_reason", "flag_absent_specialist",
    "flag_caseload_above_limit", "flag_long_without_work", "metrics_by_quarter",
    "outcome_flow", "outcome_flow_by_quarter", "person_status", "plot_outcome_flow",
    "protect_flow", "protect_metrics", "quarter_end", "quarterly_report", "table_3",
    "team_list",
]
