"""English and Norwegian (bokmål) text of every figure.

All words that appear on a figure come from here, so switching ``lang="en"`` to
``lang="no"`` changes every label at once and a missing translation is a test failure
rather than a mixed-language figure.

Example
-------
>>> label("controls", "no"), outcome_label("workdays", "en")
('Kontrollkommuner', 'Workdays per person-year')
"""

from __future__ import annotations

import re

from .style import check_lang

#: key -> (English, Norwegian)
LABELS: dict[str, tuple[str, str]] = {
    "treated": ("Bodø", "Bodø"),
    "treated_generic": ("Treated municipality", "Behandlet kommune"),
    "controls": ("Control municipalities", "Kontrollkommuner"),
    "synthetic": ("Synthetic Bodø", "Syntetisk Bodø"),
    "synthetic_generic": ("Synthetic control", "Syntetisk kontroll"),
    "placebos": ("Placebo municipalities", "Placebokommuner"),
    "gap": ("Bodø minus synthetic control", "Bodø minus syntetisk kontroll"),
    "ips_start": ("IPS start", "IPS-oppstart"),
    "year": ("Year", "År"),
    "period": ("Period", "Periode"),
    "quarter": ("Quarter", "Kvartal"),
    "event_years": ("Years since IPS start", "År siden IPS-oppstart"),
    "event_months": ("Months since IPS start", "Måneder siden IPS-oppstart"),
    "event_periods": ("Periods since IPS start", "Perioder siden IPS-oppstart"),
    "estimate": ("Estimate", "Estimat"),
    "effect_on": ("Effect on", "Effekt på"),
    "ci": ("{level:.0%} confidence interval", "{level:.0%} konfidensintervall"),
    "ci_pointwise": ("{level:.0%} pointwise confidence bands",
                     "{level:.0%} punktvise konfidensbånd"),
    "uniform_band": ("{level:.0%} uniform band", "{level:.0%} simultant bånd"),
    "reference": ("Reference period", "Referanseperiode"),
    "event_study": ("Event study", "Hendelsesstudie"),
    "staggered": ("Staggered adoption: effect by time since IPS start",
                  "Trinnvis innføring: effekt etter tid siden IPS-oppstart"),
    "synth_gap": ("Synthetic control", "Syntetisk kontroll"),
    "placebo_title": ("Placebo-in-space gaps", "Placebogap for kontrollkommunene"),
    "months_since_index": ("Months since index date", "Måneder siden indeksdato"),
    "free_of": ("Free of", "Uten"),
    "cumulative_incidence": ("Cumulative incidence", "Kumulativ insidens"),
    "kaplan_meier": ("Kaplan–Meier", "Kaplan–Meier"),
    "competing": ("competing event", "konkurrerende hendelse"),
    "persons": ("Persons", "Personer"),
    "binned_residuals": ("Binned means, 95% CI", "Gruppesnitt, 95 % KI"),
    "cox_coefficient": ("Cox coefficient", "Cox-koeffisient"),
    "schoenfeld_title": ("Proportional hazards check", "Test av proporsjonale hasarder"),
    "persons_log": ("Persons (log scale)", "Personer (logaritmisk skala)"),
    "flow_title": ("Participant flow", "Utvalgsflyt"),
    "suppressed": ("suppressed (< {n})", "skjult (< {n})"),
    "target_band": ("Target 40–50 %", "Mål 40–50 %"),
    "percent": ("Per cent", "Prosent"),
    "programme_title": ("IPS programme metrics by quarter", "IPS-nøkkeltall per kvartal"),
    "fidelity_title": ("IPS-25 fidelity item profile", "IPS-25 troskapsprofil per indikator"),
    "item_score": ("Item score (1–5)", "Skår per indikator (1–5)"),
    "reform_aap": ("AAP introduced", "AAP innført"),
    "reform_disability": ("Disability reform", "Uførereform"),
    "reform_aap_2018": ("AAP tightened", "AAP innstrammet"),
    "band_exemplary": ("exemplary", "eksemplarisk"),
    "band_good": ("good", "god"),
    "band_fair": ("fair", "akseptabel"),
    "band_not supported employment": ("not supported employment", "ikke IPS"),
}

#: outcome -> (English, Norwegian) axis label
OUTCOMES: dict[str, tuple[str, str]] = {
    "disability": ("Share on disability pension", "Andel på uføretrygd"),
    "work_assessment": ("Share on work assessment allowance",
                        "Andel på arbeidsavklaringspenger"),
    "sickness": ("Share on sickness benefit", "Andel på sykepenger"),
    "unemployment": ("Share on unemployment benefit", "Andel på dagpenger"),
    "social_assistance": ("Share on social assistance", "Andel på sosialhjelp"),
    "qualification": ("Share on qualification benefit", "Andel på kvalifiseringsstønad"),
    "health_benefit": ("Share on a health-related benefit", "Andel på helserelatert ytelse"),
    "any_benefit": ("Share on any benefit", "Andel på en trygdeytelse"),
    "employed": ("Share employed", "Andel i arbeid"),
    "workdays": ("Workdays per person-year", "Arbeidsdager per personår"),
    "benefit_months": ("Months on a health-related benefit",
                       "Måneder på helserelatert ytelse"),
    "ltbd": ("Share long-term benefit dependent", "Andel langvarig trygdeavhengige"),
    "ltbd_onset": ("long-term benefit dependence", "langvarig trygdeavhengighet"),
    "sustained_work": ("sustained work", "varig arbeid"),
}

#: programme metric -> (English, Norwegian)
METRICS: dict[str, tuple[str, str]] = {
    "ever_offered": ("Job seekers ever offered IPS", "Jobbsøkere noen gang tilbudt IPS"),
    "active": ("Active caseload", "Aktive jobbsøkere"),
    "in_work": ("Active job seekers in ordinary work", "Aktive jobbsøkere i ordinært arbeid"),
    "share_in_work": ("Active caseload in ordinary work (%)",
                      "Aktive jobbsøkere i ordinært arbeid (%)"),
    "community_share": ("Working time in the community (%)", "Arbeidstid ute i samfunnet (%)"),
    "employer_meetings": ("Employer meetings per specialist per week",
                          "Arbeidsgivermøter per jobbspesialist per uke"),
    "days_to_job_search": ("Days to active job search (median)",
                           "Dager til aktiv jobbsøking (median)"),
    "days_to_first_meeting": ("Days from referral to first meeting (median)",
                              "Dager fra henvisning til første møte (median)"),
    "caseload_per_specialist": ("Job seekers per specialist", "Jobbsøkere per jobbspesialist"),
}

#: fidelity item number -> Norwegian short title (English titles come from ips_study.fidelity)
FIDELITY_ITEMS_NO: dict[int, str] = {
    1: "Antall brukere per jobbspesialist",
    2: "Jobbspesialistene arbeider bare med arbeidsrettet oppfølging",
    3: "Jobbspesialistene dekker alle faser av oppfølgingen",
    4: "Integrasjon med behandling: tilknytning til behandlingsteam",
    5: "Integrasjon med behandling: hyppig kontakt med teamet",
    6: "Samarbeid mellom jobbspesialister og NAV-veiledere",
    7: "IPS-enhet (jobbspesialistene som team)",
    8: "IPS-leders rolle",
    9: "Ingen eksklusjonskriterier",
    10: "Virksomhetens fokus på ordinært arbeid",
    11: "Ledelsens støtte til IPS",
    12: "Veiledning om trygd og økonomi ved arbeid",
    13: "Åpenhet om helseopplysninger",
    14: "Løpende, arbeidsbasert kartlegging",
    15: "Rask jobbsøking",
    16: "Individuelt tilpasset jobbsøking",
    17: "Jobbutvikling: hyppig kontakt med arbeidsgivere",
    18: "Jobbutvikling: kvalitet i arbeidsgiverkontakten",
    19: "Variasjon i typer jobber",
    20: "Variasjon i arbeidsgivere",
    21: "Ordinære jobber",
    22: "Individuelt tilpasset oppfølging i jobb",
    23: "Tidsubegrenset oppfølging",
    24: "Oppfølging ute i samfunnet",
    25: "Aktiv oppsøking og engasjement fra behandlingsteamet",
}

#: participant-flow step patterns (from ips_study.cohort.participant_flow) -> templates
_FLOW_STEPS: tuple[tuple[str, str, str], ...] = (
    (r"persons in the registers", "Persons in the registers", "Personer i registrene"),
    (r"alive and resident in Norway", "Alive and resident in Norway", "I live og bosatt i Norge"),
    (r"resident in a study municipality", "Resident in a study municipality",
     "Bosatt i en studiekommune"),
    (r"aged (\d+)-(\d+)", "Aged {0}–{1}", "Alder {0}–{1} år"),
    (r"mental-health contact in previous (\d+) months",
     "Mental-health contact in previous {0} months",
     "Kontakt for psykiske plager siste {0} måneder"),
    (r"not on disability pension", "Not on disability pension", "Ikke på uføretrygd"),
    (r"receiving work assessment allowance", "Receiving work assessment allowance",
     "Mottar arbeidsavklaringspenger"),
)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if check_lang(lang) == "en" else pair[1]


def label(key: str, lang: str = "en", **fmt) -> str:
    """Text of a label in ``lang``; ``fmt`` fills ``{placeholders}``.

    >>> label("ci", "no", level=0.95)
    '95% konfidensintervall'
    """
    try:
        pair = LABELS[key]
    except KeyError:
        raise KeyError(f"no figure label {key!r}") from None
    text = _pick(pair, lang)
    return text.format(**fmt) if fmt else text


def outcome_label(outcome: str, lang: str = "en") -> str:
    """Axis label of an outcome (name from data contract, section 4); unknown names are returned as given."""
    check_lang(lang)
    pair = OUTCOMES.get(outcome)
    return _pick(pair, lang) if pair else outcome


def metric_label(metric: str, lang: str = "en") -> str:
    """Label of a programme metric (:mod:`ips_study.caseload` name)."""
    check_lang(lang)
    pair = METRICS.get(metric)
    return _pick(pair, lang) if pair else metric


def flow_step_label(step: str, lang: str = "en") -> str:
    """Translate a participant-flow step name; unknown steps are returned unchanged.

    >>> flow_step_label("aged 18-40", "no")
    'Alder 18–40 år'
    """
    check_lang(lang)
    for pattern, en, no in _FLOW_STEPS:
        m = re.fullmatch(pattern, step.strip())
        if m:
            return (en if lang == "en" else no).format(*m.groups())
    return step


def treated_label(code: str | None, lang: str = "en") -> str:
    """Name of the treated municipality: Bodø for 1804, else a generic label."""
    return label("treated" if code in (None, "1804") else "treated_generic", lang)


def group_label(group: str, lang: str = "en", treated_code: str | None = None) -> str:
    """Label of a survival group such as ``"treated/pre"`` or ``"control"``.

    >>> group_label("control/post", "en")
    'Control municipalities, index date from IPS start'
    """
    check_lang(lang)
    side, _, era = str(group).partition("/")
    names = {"treated": treated_label(treated_code, lang), "control": label("controls", lang)}
    text = names.get(side, side)
    if era == "pre":
        text += ", index date before IPS start" if lang == "en" else ", indeksdato før IPS-oppstart"
    elif era == "post":
        text += ", index date from IPS start" if lang == "en" else ", indeksdato etter IPS-oppstart"
    return text
