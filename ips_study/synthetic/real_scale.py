"""Synthetic registers at real scale for the published design: Bodø and its ten controls.

The embedded data spread 60,000 simulated persons over 28 municipalities, so Bodø's
target group is a few hundred persons and one draw's municipality noise swamps the effect.
:func:`published_geography` simulates only the eleven municipalities of
``ips_study/studies/published_design.toml``, sized by their real populations, with one Bodø
programme for the whole population and the **published-design calibration**:

* :func:`published_design_effects`: the participant effects plus an office-practice spill-over
  on Bodø's young recipients of work assessment allowance
  (:class:`~ips_study.synthetic.spillover.Spillover`), so that the published design's true
  effect is about +5.6 workdays per person-year (the participants alone give +0.3);
* :data:`AAP_ENTRY_HR`: the share of young adults on work assessment allowance raised to
  NAV's published share, so that Bodø's target group has its real size (about 570 a year);
* :data:`CALIBRATED_SDS` (a quarter of the embedded data's municipality draws) and
  :data:`WORK_YEAR_SD`, the municipality-year shocks calibrated so that the estimator's spread
  over generator seeds implies a 95 % interval near the published 5.7 days;
* the streamed ``truth.json`` is the published design's (``truth_target``).

See docs/synthetic_data.md, "Real scale".

Sources and approximations (docs/synthetic_data.md says the same):

* :data:`POPULATION_2013`: total population on 1 January 2013 per municipality, Statistics
  Norway (SSB) StatBank tables 07459 / 10826, as compiled on 2020 municipality boundaries in
  the public repository BergensTidende/bord4-data (``data/csv/norwegian_population.csv``,
  commit def8009; README "Sources: ssb.no/statbank/table/07459"). Ålesund (1504) and
  Steinkjer (1702) merged with neighbours in 2020, so their figures are for the larger
  2020 municipality (they overstate the 2013 unit). These are *totals*, not counts by age.
* :data:`AGE_18_40_2013`: residents aged 18-40 (completed years) on 1 January 2013 per
  municipality, SSB StatBank table 07459 (population by single year of age), on 2020
  boundaries as compiled by the Norwegian Institute of Public Health's R package csdata
  (github.com/niphr/csdata, ``data-raw/data-temp/nor_population_by_age_municip_b2020.rds``,
  commit 9e5a009; fetched from ``data.ssb.no/api/v0/en/table/07459`` by its
  ``data-raw/01_nor_pop_original.R``). Its 2013 totals equal :data:`POPULATION_2013` to the
  person. They set the municipalities' weights and the overall scale (session 8; before,
  every municipality had the same approximate share 0.30; the cited share is 0.296 over the
  eleven, Bodø 0.320).
* :data:`PERSONS_PER_RESIDENT` (0.54) is measured on the generator itself: the share of
  simulated persons who are resident and aged 18-40 on 2013-01-01 (everyone else is
  simulated because they are 18-40 in a study municipality at *some* time in the window).

Example
-------
>>> spec = published_geography()
>>> spec.codes[0], len(spec.codes)
('1804', 11)
>>> 150_000 < real_scale_persons() < 250_000
True
"""

from __future__ import annotations

from .effects import Effects
from .geography import GeographySpec
from .spillover import Spillover

#: code -> (name, population 1 January 2013); SSB via BergensTidende/bord4-data (see module doc)
POPULATION_2013: dict[str, tuple[str, int]] = {
    "1804": ("Bodø", 49_203),
    "1504": ("Ålesund", 61_893),       # 2020 boundaries (after the 2020 merger): overstated
    "0501": ("Lillehammer", 26_850),
    "0502": ("Gjøvik", 29_407),
    "0403": ("Hamar", 29_353),
    "1505": ("Kristiansund", 24_131),
    "1903": ("Harstad", 24_291),
    "1702": ("Steinkjer", 24_226),     # 2020 boundaries (after the 2020 merger): overstated
    "1714": ("Stjørdal", 22_379),
    "2012": ("Alta", 19_646),
    "1719": ("Levanger", 19_078),
}
#: code -> residents aged 18-40 on 1 January 2013; SSB table 07459 via niphr/csdata (module doc)
AGE_18_40_2013: dict[str, int] = {
    "1804": 15_738, "1504": 19_070, "0501": 7_759, "0502": 8_530, "0403": 8_181, "1505": 7_110,
    "1903": 7_111, "1702": 6_465, "1714": 6_247, "2012": 6_256, "1719": 5_468,
}
#: the approximation used until session 8 (every municipality the same share; not a cited figure)
AGE_18_40_SHARE = 0.30
#: measured on the generator: resident 18-40 persons on 2013-01-01 per simulated person
PERSONS_PER_RESIDENT = 0.54
#: municipality-by-year SD of the work log-hazard shocks, calibrated so that the published
#: design's estimator spread gives a 95 % interval near the published 5.7 days
#: (docs/synthetic_data.md, "Real scale": 0.0125 gave 4.7 and 0.05 gave 7.4 days)
WORK_YEAR_SD = 0.03


#: hazard ratio of entering work assessment allowance at real scale: the generator's 2.0-2.1 %
#: of 18-29-year-olds on the allowance (2013) raised to about 3.6 %, NAV's published share for
#: Nordland's 18-29-year-olds (3.5 % in September 2019, 3.7 % in March 2020, after the 2018
#: tightening; docs/synthetic_data.md, "Real scale")
AAP_ENTRY_HR = 2.0


#: the published-design calibration of the effect beyond participants (docs/synthetic_data.md,
#: "Real scale"): AAP-to-work hazard ratio at full strength, from three months after the start,
#: reached three years later. With AAP_ENTRY_HR: truth about 5.6-5.7 and 10.5 in event year 3
#: (published 5.6 and 10.5): on Bodø and one control 5.61 (MC SE 0.20) and 10.55 (0.46), 16
#: seeds; the many-draw run at 1.67/36/4 (6.14 and 11.8, all eleven municipalities, 100 seeds)
#: minus the paired difference to this shape (0.45, MC SE 0.07; 1.3 in year 3) gives 5.69 and 10.5
PUBLISHED_SPILLOVER = Spillover(work_hr=1.58, ramp_months=36, lag_months=3)
#: the calibrated municipality draws of the real-scale geography (docs/synthetic_data.md)
#: level and trend SDs at a quarter of the embedded data's (0.15, 0.10, 0.02)
CALIBRATED_SDS = {"health_level_sd": 0.0375, "work_level_sd": 0.025, "health_trend_sd": 0.005}


def _cohort_span(start: str, end: str) -> int:
    """Birth months the generator draws from for a window (18-40 at some time in it)."""
    import pandas as pd
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    return (e.year * 12 + e.month - 18 * 12) - (s.year * 12 + s.month - 41 * 12) + 1


def real_scale_persons(codes: tuple[str, ...] | None = None, *, start: str = "2006-01",
                       end: str = "2020-12") -> int:
    """Persons to simulate so that the 18-40 populations of ``codes`` are at real scale.

    ``start``/``end``: the simulated window (:func:`ips_study.synthetic.generate`); a shorter
    window draws people from fewer birth cohorts, so it needs fewer persons for the same
    resident population (:data:`PERSONS_PER_RESIDENT` is measured on the default window).
    """
    codes = tuple(POPULATION_2013) if codes is None else codes
    residents = sum(AGE_18_40_2013[c] for c in codes)
    per = PERSONS_PER_RESIDENT * _cohort_span("2006-01", "2020-12") / _cohort_span(start, end)
    return int(round(residents / per, -3))


def published_design_effects(null: bool = False, spillover: Spillover | None = None) -> Effects:
    """The default participant effects plus the calibrated office-practice spill-over.

    The published-design calibration: at real scale the published design's true effect is
    then about +5.6 workdays per person-year (docs/synthetic_data.md, "Real scale").
    ``null=True``: no effect at all.
    """
    if null:
        return Effects.null()
    return Effects(spillover=PUBLISHED_SPILLOVER if spillover is None else spillover)


def published_geography(work_year_sd: float | None = None, *, persons: int | None = None,
                        aap_entry_hr: float | None = None, **sds: float | None) -> GeographySpec:
    """The published design's eleven municipalities at real scale (a :class:`GeographySpec`).

    ``work_year_sd`` overrides the chosen shock SD (0 for none); ``persons`` the
    population size the one Bodø programme is spread over (default :func:`real_scale_persons`);
    ``health_level_sd``, ``work_level_sd``, ``health_trend_sd`` override the calibrated
    municipality draws (:data:`CALIBRATED_SDS`), ``aap_entry_hr`` the calibrated
    :data:`AAP_ENTRY_HR`. The streamed truth is the published design's
    (``truth_target="work_assessment"``).
    """
    codes = tuple(POPULATION_2013)
    unknown = set(sds) - set(CALIBRATED_SDS)
    if unknown:
        raise TypeError(f"published_geography: unknown argument(s) {', '.join(sorted(unknown))}")
    chosen = {k: (v if sds.get(k) is None else float(sds[k])) for k, v in CALIBRATED_SDS.items()}
    # weights: the 18-40 residents (the simulated persons are 18-40 at some time in the window)
    return GeographySpec(codes=codes, weights=tuple(float(AGE_18_40_2013[c]) for c in codes),
                         work_year_sd=WORK_YEAR_SD if work_year_sd is None else float(work_year_sd),
                         programme_persons=real_scale_persons() if persons is None else int(persons),
                         truth_target="work_assessment",
                         aap_entry_hr=AAP_ENTRY_HR if aap_entry_hr is None else float(aap_entry_hr), **chosen)


def population_truth_from_panels(factual, counterfactual, outcome: str = "workdays") -> tuple[float, dict]:
    """``att_population`` of the treated municipality from the two worlds' full panels.

    The same numbers as :func:`ips_study.synthetic.truth.population_truth` (target-group mean
    with minus without IPS per event year, weighted by the factual person-years; checked by
    ``tests/test_synthetic_real_scale.py``), from full panels a simulation builds anyway
    (``factual`` and ``counterfactual`` from :func:`ips_study.panel.build_panel` of the two
    worlds, with ``treated``, ``post`` and ``event_time``), so the treated municipality's
    panels are not built a second time. Returns the average and the gap by event year.
    """
    sel = [p.loc[(p["treated"] == 1) & (p["post"] == 1)] for p in (factual, counterfactual)]
    mf, mc = (p.groupby("event_time")[outcome].mean() for p in sel)
    gap = (mf - mc).dropna()
    w = sel[0]["event_time"].value_counts().reindex(gap.index).to_numpy(float)
    return float(gap.to_numpy() @ w / w.sum()), {int(k): float(v) for k, v in gap.items()}


def main(argv=None) -> int:
    """``python -m ips_study.synthetic.real_scale --out DIR``: stream the published design's registers.

    Writes the eleven municipalities at real scale (every data-contract table and
    ``truth.json``) chunk by chunk, so memory stays bounded by one chunk.
    """
    import argparse

    from .generate import DEFAULT_SEED, write_synthetic

    p = argparse.ArgumentParser(prog="python -m ips_study.synthetic.real_scale", description=main.__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--work-year-sd", type=float, default=None,
                   help=f"SD of the municipality-year shocks (default: {WORK_YEAR_SD}; docs/synthetic_data.md, Real scale)")
    p.add_argument("--null", action="store_true", help="no IPS effect")
    a = p.parse_args(argv)
    n = real_scale_persons()
    write_synthetic(a.out, persons=n, seed=a.seed, format=a.format, stream=True, progress=True,
                    effects=published_design_effects(null=a.null),
                    geography=published_geography(a.work_year_sd, persons=n))
    print(f"{n:,} persons in {len(POPULATION_2013)} municipalities written to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
