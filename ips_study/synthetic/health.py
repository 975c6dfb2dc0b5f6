"""Mental-health episodes and diagnosed contacts (NPR, ICD-10 / KUHR, ICPC-2).

Each person has a latent class (none, common mental disorder, serious mental illness) from
:mod:`ips_study.synthetic.population`. A monthly on/off episode process runs per class;
during an episode people see their general practitioner (primary care, ICPC-2 chapter P
codes) and, more often for serious illness, the specialist service (ICD-10 chapter F codes).
Everyone also has occasional contacts with other codes, so a target rule must filter on
the chapter. IPS does not change this process.

Example
-------
>>> sorted(set(c[0] for c in ICD10_MENTAL))
['F']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import ABSENT, Calendar, Population

ICPC2_MENTAL = ("P76", "P74", "P02", "P03", "P06", "P29", "P81", "P15", "P72", "P73")
ICPC2_MENTAL_P = (0.30, 0.22, 0.14, 0.08, 0.08, 0.06, 0.05, 0.04, 0.015, 0.015)
ICD10_MENTAL = ("F32", "F33", "F41", "F43", "F60", "F90", "F10", "F20", "F25", "F31")
ICD10_MENTAL_P = (0.18, 0.10, 0.18, 0.14, 0.06, 0.07, 0.05, 0.10, 0.05, 0.07)
ICPC2_OTHER = ("L03", "L86", "R74", "A04", "D01", "S88")
ICD10_OTHER = ("M54", "J06", "S93", "K35", "M51")

# per class: episode onset and recovery hazards; contact probabilities per month in episode
_ONSET = np.array([0.0012, 0.02, 0.03])
_RECOVER = np.array([0.30, 0.12, 0.05])
_PRIMARY_IN = np.array([0.35, 0.35, 0.35])
_SPECIALIST_IN = np.array([0.03, 0.06, 0.35])
_SPECIALIST_OUT = np.array([0.0, 0.0, 0.04])
_BACKGROUND_P = 0.0008
_OTHER_CONTACT = 0.004


@dataclass
class HealthPaths:
    """Monthly episode indicator and diagnosed contacts of one chunk of people."""

    episode: np.ndarray     # bool (n, T)
    mh_contact: np.ndarray  # bool (n, T): a recorded chapter F / P contact that month
    rows: dict[str, np.ndarray]  # diagnoses rows: person index, month index, system, code, source


def simulate_health(pop: Population, cal: Calendar, rng: np.random.Generator) -> HealthPaths:
    """Simulate episodes and contacts month by month, vectorised over persons.

    >>> from ips_study.synthetic.population import simulate_population
    >>> cal = Calendar.from_months("2006-01", "2006-12", burn_in=0)
    >>> pop = simulate_population(100, cal, np.ones(2) / 2, np.random.default_rng(1))
    >>> simulate_health(pop, cal, np.random.default_rng(2)).episode.shape
    (100, 12)
    """
    n, T = pop.residence.shape
    c = pop.mh_class
    episode = np.zeros((n, T), dtype=bool)
    on = rng.random(n) < _ONSET[c] / (_ONSET[c] + _RECOVER[c])
    kinds = np.zeros((n, T), dtype=np.int8)  # 0 none, 1 primary MH, 2 specialist MH, 3 other
    for t in range(T):
        u = rng.random((n, 3))
        on = np.where(on, u[:, 0] >= _RECOVER[c], u[:, 0] < _ONSET[c])
        present = pop.residence[:, t] != ABSENT
        adult = pop.age(cal, t) >= 16
        episode[:, t] = on & present
        active = present & adult
        spec = active & (u[:, 1] < np.where(on, _SPECIALIST_IN[c], _SPECIALIST_OUT[c]))
        prim = active & ~spec & (u[:, 2] < np.where(on, _PRIMARY_IN[c], _BACKGROUND_P))
        other = active & ~spec & ~prim & (u[:, 2] > 1.0 - _OTHER_CONTACT)
        kinds[:, t] = np.select([spec, prim, other], [2, 1, 3], 0)
    mh_contact = (kinds == 1) | (kinds == 2)
    # only contacts inside the register window are delivered
    kinds[:, :cal.window_start_index] = 0
    pi, ti = np.nonzero(kinds)
    k = kinds[pi, ti]
    m = len(pi)
    mental_primary = rng.choice(len(ICPC2_MENTAL), m, p=ICPC2_MENTAL_P)
    mental_spec = rng.choice(len(ICD10_MENTAL), m, p=ICD10_MENTAL_P)
    other_is_spec = rng.random(m) < 0.3
    other_code = rng.integers(0, 5, m)
    # serious illness is coded with psychosis / bipolar codes more often
    severe = pop.mh_class[pi] == 2
    psych = severe & (rng.random(m) < 0.5)
    mental_spec = np.where(psych, rng.choice([7, 8, 9], m), mental_spec)
    code = np.where(k == 1, np.asarray(ICPC2_MENTAL, dtype=object)[mental_primary],
                    np.where(k == 2, np.asarray(ICD10_MENTAL, dtype=object)[mental_spec],
                             np.where(other_is_spec, np.asarray(ICD10_OTHER, dtype=object)[other_code],
                                      np.asarray(ICPC2_OTHER, dtype=object)[other_code])))
    specialist = (k == 2) | ((k == 3) & other_is_spec)
    day = rng.integers(1, 29, m)
    rows = {"person": pi, "month": ti, "day": day, "specialist": specialist, "code": code}
    return HealthPaths(episode=episode, mh_contact=mh_contact, rows=rows)
