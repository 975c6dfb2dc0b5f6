"""Study geography of the synthetic registers: municipalities (kommuner) and their effects.

Bodø (1804) starts IPS in January 2013; six other municipalities adopt later (staggered,
2014-2019) and the rest never do. Codes, names and counties are the real pre-2018 ones;
``weight`` is the municipality's share of the simulated 18-40 population (a rough spread of
sizes: a few as large as Bodø, many small), ``centrality`` is SSB's index (sentralitetsindeks,
1 = most central, 6 = least).

Municipality effects are drawn from *one* distribution that includes Bodø: a level shift on
the log-hazards of entering health-related benefits and of finding work, and a small linear
trend in calendar time. Naive before/after comparisons are therefore biased, a
difference-in-differences is unbiased in expectation over draws, and with a single treated
unit the municipality-level noise is what inference must account for.

Example
-------
>>> geo = municipality_table()
>>> geo.loc[geo["municipality"] == "1804", "name"].item()
'Bodø'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: (code, name, county, centrality, weight, ips_start or None)
MUNICIPALITIES: tuple[tuple[str, str, str, int, float, str | None], ...] = (
    ("1804", "Bodø", "Nordland", 3, 10.0, "2013-01-01"),
    ("1902", "Tromsø", "Troms", 3, 14.0, "2014-09-01"),
    ("1833", "Rana", "Nordland", 4, 5.0, "2015-03-01"),
    ("1502", "Molde", "Møre og Romsdal", 4, 5.5, "2016-01-01"),
    ("2012", "Alta", "Finnmark", 4, 4.0, "2017-05-01"),
    ("0403", "Hamar", "Hedmark", 3, 6.5, "2018-01-01"),
    ("1903", "Harstad", "Troms", 4, 5.0, "2019-02-01"),
    ("1504", "Ålesund", "Møre og Romsdal", 3, 9.5, None),
    ("0501", "Lillehammer", "Oppland", 3, 6.0, None),
    ("0502", "Gjøvik", "Oppland", 4, 6.0, None),
    ("1505", "Kristiansund", "Møre og Romsdal", 4, 4.5, None),
    ("1805", "Narvik", "Nordland", 4, 3.6, None),
    ("1702", "Steinkjer", "Nord-Trøndelag", 4, 4.0, None),
    ("1714", "Stjørdal", "Nord-Trøndelag", 3, 4.5, None),
    ("1719", "Levanger", "Nord-Trøndelag", 4, 3.8, None),
    ("1703", "Namsos", "Nord-Trøndelag", 5, 2.4, None),
    ("1824", "Vefsn", "Nordland", 5, 2.4, None),
    ("1841", "Fauske", "Nordland", 5, 1.8, None),
    ("1820", "Alstahaug", "Nordland", 5, 1.4, None),
    ("1870", "Sortland", "Nordland", 5, 1.8, None),
    ("1865", "Vågan", "Nordland", 5, 1.7, None),
    ("1866", "Hadsel", "Nordland", 5, 1.5, None),
    ("1931", "Lenvik", "Troms", 5, 2.2, None),
    ("2004", "Hammerfest", "Finnmark", 5, 2.0, None),
    ("1837", "Meløy", "Nordland", 6, 1.1, None),
    ("1840", "Saltdal", "Nordland", 6, 0.8, None),
    ("1813", "Brønnøy", "Nordland", 6, 1.4, None),
    ("1871", "Andøy", "Nordland", 6, 0.8, None),
)


def municipality_table() -> pd.DataFrame:
    """The ``municipalities`` register table (data contract, section 2) plus the internal ``weight``.

    >>> int(municipality_table()["ips_start"].notna().sum())
    7
    """
    df = pd.DataFrame(MUNICIPALITIES,
                      columns=["municipality", "name", "county", "centrality", "weight", "ips_start"])
    df["ips_start"] = pd.to_datetime(df["ips_start"]).astype("datetime64[ns]")  # pandas 3 infers [us]
    df["centrality"] = df["centrality"].astype("float64")
    df["weight"] = df["weight"] / df["weight"].sum()
    return df


@dataclass(frozen=True)
class MunicipalityEffects:
    """Municipality-level deviations on the log-hazard scale, one entry per municipality.

    ``health_level``/``work_level`` shift the log-hazards of entering health-related benefits
    and of finding work; ``health_trend`` is a per-year slope (centred on 2013) on the health
    log-hazards. All three are drawn from one normal distribution per component for every
    municipality including Bodø.
    """

    health_level: np.ndarray
    work_level: np.ndarray
    health_trend: np.ndarray

    def as_frame(self, codes: list[str]) -> pd.DataFrame:
        return pd.DataFrame({"municipality": codes, "health_level": self.health_level,
                             "work_level": self.work_level, "health_trend": self.health_trend})


def draw_municipality_effects(rng: np.random.Generator, n: int, *, sd_level: float = 0.15,
                              sd_work: float = 0.10, sd_trend: float = 0.02) -> MunicipalityEffects:
    """Draw level and trend effects for ``n`` municipalities from one distribution.

    >>> eff = draw_municipality_effects(np.random.default_rng(1), 3)
    >>> eff.health_level.shape
    (3,)
    """
    return MunicipalityEffects(
        health_level=rng.normal(0.0, sd_level, n),
        work_level=rng.normal(0.0, sd_work, n),
        health_trend=rng.normal(0.0, sd_trend, n),
    )


@dataclass(frozen=True)
class GeographySpec:
    """Which municipalities a simulation has, how large they are and how noisy their years are.

    The default (every field ``None`` / zero) is the embedded data's geography: all
    :data:`MUNICIPALITIES` with their table weights, no municipality-year shocks, one copy of
    each programme per default-sized chunk. :func:`ips_study.synthetic.real_scale.published_geography`
    fills it in for the published design at real scale.

    Parameters
    ----------
    codes : tuple of str, optional
        The municipalities to simulate (a subset of :data:`MUNICIPALITIES`, Bodø included).
    weights : tuple of float, optional
        Their population shares (same order as ``codes``; normalised to sum to one).
    work_year_sd : float
        Standard deviation of independent municipality-by-calendar-year shocks on the
        log-hazard of finding work (0: none, the embedded data).
    programme_persons : int, optional
        Simulate *one* programme per municipality for a population of this many persons
        (each chunk runs its share ``n_chunk / programme_persons`` of it) instead of one copy
        per default-sized chunk; a population at real scale then has the real programme once.
    health_level_sd, work_level_sd, health_trend_sd : float, optional
        Standard deviations of the municipality draws of :func:`draw_municipality_effects`
        (``None``: its defaults 0.15, 0.10 and 0.02, the embedded data's). The published
        design's calibration at real scale sets them (docs/synthetic_data.md, "Real scale").
    aap_entry_hr : float
        Hazard ratio of entering work assessment allowance, for everyone (1: the embedded
        data). The real-scale geography raises it so that the share of young adults on the
        allowance matches NAV's published share (docs/synthetic_data.md, "Real scale").
    truth_target : str, optional
        ``"work_assessment"``: the streamed ``truth.json`` is the truth of the published
        design's target group (work assessment allowance on 1 January, year panel;
        :func:`ips_study.synthetic.direct.year_truth`) instead of the default target group's.

    Examples
    --------
    >>> spec = GeographySpec(codes=("1804", "1833"), weights=(2.0, 1.0))
    >>> spec.table()["weight"].round(3).tolist()
    [0.667, 0.333]
    """

    codes: tuple[str, ...] | None = None
    weights: tuple[float, ...] | None = None
    work_year_sd: float = 0.0
    programme_persons: int | None = None
    health_level_sd: float | None = None
    work_level_sd: float | None = None
    health_trend_sd: float | None = None
    truth_target: str | None = None
    aap_entry_hr: float = 1.0

    def __post_init__(self) -> None:
        if not self.aap_entry_hr > 0:
            raise ValueError("GeographySpec: aap_entry_hr must be positive")
        for name in ("health_level_sd", "work_level_sd", "health_trend_sd"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"GeographySpec: {name} must be non-negative")
        if self.truth_target not in (None, "work_assessment"):
            raise ValueError("GeographySpec: truth_target must be None or 'work_assessment'")
        if self.weights is not None and (self.codes is None or len(self.weights) != len(self.codes)):
            raise ValueError("GeographySpec: weights need codes of the same length")
        if self.codes is not None and "1804" not in self.codes:
            raise ValueError("GeographySpec: codes must include Bodø (1804)")
        if self.work_year_sd < 0:
            raise ValueError("GeographySpec: work_year_sd must be non-negative")

    def effect_sds(self) -> dict[str, float]:
        """The keyword arguments of :func:`draw_municipality_effects` this geography overrides."""
        names = {"sd_level": self.health_level_sd, "sd_work": self.work_level_sd,
                 "sd_trend": self.health_trend_sd}
        return {k: float(v) for k, v in names.items() if v is not None}

    def table(self) -> pd.DataFrame:
        """The municipality table of this geography (internal ``weight`` normalised)."""
        geo = municipality_table()
        if self.codes is None:
            return geo
        unknown = sorted(set(self.codes) - set(geo["municipality"]))
        if unknown:
            raise ValueError(f"GeographySpec: codes not in the synthetic geography: {', '.join(unknown)}")
        geo = geo.set_index("municipality").loc[list(self.codes)].reset_index()
        if self.weights is not None:
            geo["weight"] = np.asarray(self.weights, dtype=float)
        geo["weight"] = geo["weight"] / geo["weight"].sum()
        return geo


def draw_year_shocks(rng: np.random.Generator, n: int, years: int, sd: float) -> np.ndarray:
    """Independent municipality-by-year shocks, shape ``(n, years)`` (zeros when ``sd`` is 0).

    >>> draw_year_shocks(np.random.default_rng(0), 2, 3, 0.0).shape
    (2, 3)
    """
    if sd == 0:
        return np.zeros((n, years))
    return rng.normal(0.0, sd, (n, years))
