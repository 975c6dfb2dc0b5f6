"""People of the synthetic registers: births, sex, heterogeneity, residence, moves, deaths.

Everyone who belongs to the 18-40 population of a study municipality at some time in the
window is simulated month by month from a burn-in start (two years before the window) to
the window end: people age in at 18 and out past 40 (and are still followed), immigrate,
move between municipalities, emigrate (and sometimes return) and die. Residence, migration
and death are drawn from their own random streams and never depend on the labour-market
states, so IPS cannot change who lives where: every factual person-period also exists in
the counterfactual world.

Everything is vectorised over persons: one numpy step per calendar month.

Example
-------
>>> cal = Calendar.from_months("2006-01", "2006-12", burn_in=2)
>>> cal.n_months, str(cal.month_start[0])
(14, '2005-11-01')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ABSENT = -1


@dataclass(frozen=True)
class Calendar:
    """Simulation months: ``month_start`` (datetime64[D]) from burn-in start to window end."""

    month_start: np.ndarray
    window_start_index: int

    @classmethod
    def from_months(cls, start: str, end: str, *, burn_in: int = 24) -> "Calendar":
        first = np.datetime64(pd.Timestamp(start).strftime("%Y-%m"), "M") - burn_in
        last = np.datetime64(pd.Timestamp(end).strftime("%Y-%m"), "M")
        months = np.arange(first, last + 1, dtype="datetime64[M]")
        return cls(months.astype("datetime64[D]"), burn_in)

    @property
    def n_months(self) -> int:
        return len(self.month_start)

    @property
    def month_number(self) -> np.ndarray:
        """Absolute month count (year * 12 + month - 1) of each simulation month."""
        return self.month_start.astype("datetime64[M]").astype(np.int64) + 1970 * 12

    @property
    def year(self) -> np.ndarray:
        return self.month_number // 12

    def day_date(self, t: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Date of day ``day`` (1-based) in simulation month ``t``."""
        return self.month_start[t] + (np.asarray(day, dtype=np.int64) - 1).astype("timedelta64[D]")


@dataclass
class Population:
    """Person attributes and the monthly residence matrix of one chunk of people.

    ``residence[i, t]`` is the municipality index (row of the geography table) of person
    ``i`` in month ``t`` or :data:`ABSENT` (not yet immigrated, emigrated or dead);
    ``change_day[i, t]`` is the day of month (1-28) on which anything that changes for the
    person in month ``t`` happens, shared by all registers so that spells line up.
    """

    birth_date: np.ndarray      # datetime64[D]
    birth_month: np.ndarray     # absolute month number
    female: np.ndarray          # bool
    frailty: np.ndarray         # unobserved heterogeneity, N(0, 1) shifted by mental-health class
    mh_class: np.ndarray        # 0 none, 1 common mental disorder, 2 serious mental illness
    residence: np.ndarray       # int16 (n, T)
    change_day: np.ndarray      # int8 (n, T)
    death_month: np.ndarray     # simulation month index of death, or -1

    @property
    def n(self) -> int:
        return len(self.female)

    def age(self, cal: Calendar, t: int) -> np.ndarray:
        """Completed years of age in month ``t`` (birthday month counts)."""
        return (cal.month_number[t] - self.birth_month) // 12


#: probability of belonging to each mental-health class (none, common, serious)
MH_CLASS_SHARES = (0.80, 0.16, 0.04)


def simulate_population(n: int, cal: Calendar, weights: np.ndarray, rng: np.random.Generator, *,
                        immigrant_share: float = 0.15) -> Population:
    """Draw ``n`` people and their monthly residence, migration and death.

    ``weights`` are the municipalities' population shares and also the destination shares
    of movers (not centrality: a steady drift to central places would be a
    municipality-specific trend).

    >>> cal = Calendar.from_months("2006-01", "2006-06", burn_in=0)
    >>> pop = simulate_population(50, cal, np.array([.5, .5]), np.random.default_rng(0))
    >>> pop.residence.shape
    (50, 6)
    """
    T = cal.n_months
    mn = cal.month_number
    first_window_month = mn[cal.window_start_index]
    # born so that they are 18-40 at some time in the window
    lo = first_window_month - 41 * 12 + 1
    hi = mn[-1] - 18 * 12
    birth_month = rng.integers(lo, hi + 1, n)
    birth_day = rng.integers(1, 29, n)
    birth_date = (birth_month - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]") + \
        (birth_day - 1).astype("timedelta64[D]")
    female = rng.random(n) < 0.49
    mh_class = rng.choice(3, size=n, p=MH_CLASS_SHARES).astype(np.int8)
    frailty = rng.normal(0.0, 1.0, n) + np.array([0.0, 0.5, 1.0])[mh_class]

    # immigrants arrive at a month when they are between 16 and 40 years old
    immigrant = rng.random(n) < immigrant_share
    arrive_lo = np.maximum(birth_month + 16 * 12, mn[0])
    arrive_hi = np.minimum(birth_month + 41 * 12, mn[-1])
    arrive = arrive_lo + np.floor(rng.random(n) * np.maximum(arrive_hi - arrive_lo, 1)).astype(np.int64)
    arrive_t = np.where(immigrant & (arrive_hi > arrive_lo), arrive - mn[0], 0)

    n_muni = len(weights)
    # movers choose destinations in proportion to size, so that municipalities' shares stay
    # stable in expectation and migration adds no systematic trend (only noise) to any unit
    attract = weights / weights.sum()
    home = rng.choice(n_muni, size=n, p=weights).astype(np.int16)

    residence = np.full((n, T), ABSENT, dtype=np.int16)
    change_day = rng.integers(1, 29, size=(n, T), dtype=np.int8)
    death_month = np.full(n, -1, dtype=np.int64)
    where = np.where(arrive_t == 0, home, ABSENT).astype(np.int16)
    emigrated = np.zeros(n, dtype=bool)
    dead = np.zeros(n, dtype=bool)
    death_mult = np.array([1.0, 2.0, 5.0])[mh_class]
    for t in range(T):
        age = (mn[t] - birth_month) / 12.0
        arriving = (arrive_t == t) & (t > 0)
        where[arriving] = home[arriving]
        present = where != ABSENT
        u = rng.random((n, 4))
        # death: Gompertz in age, higher with mental illness
        h_death = 4e-5 * np.exp(0.085 * (age - 30.0)) * death_mult
        dies = present & (u[:, 0] < h_death)
        dead |= dies
        death_month[dies] = t
        # emigration (about 1 % a year, more in the early twenties) and return migration
        h_emig = np.where(age < 26, 0.0012, 0.0007)
        leaves = present & ~dies & (u[:, 1] < h_emig)
        returns = emigrated & ~dead & (u[:, 1] < 0.008)
        # moves between study municipalities, frequent when young
        h_move = np.select([age < 25, age < 31], [0.007, 0.004], 0.0015)
        moves = present & ~dies & ~leaves & (u[:, 2] < h_move)
        if moves.any():
            # a draw of the own municipality is a move within it, so flows between any two
            # municipalities are symmetric in expectation and sizes stay stable
            dest = np.searchsorted(np.cumsum(attract), u[moves, 3] * 0.999999).astype(np.int16)
            where[moves] = dest
        where[returns] = home[returns]
        emigrated[returns] = False
        where[leaves] = ABSENT
        emigrated |= leaves
        where[dies] = ABSENT
        residence[:, t] = where
    return Population(birth_date=birth_date, birth_month=birth_month, female=female, frailty=frailty,
                      mh_class=mh_class, residence=residence, change_day=change_day,
                      death_month=death_month)
