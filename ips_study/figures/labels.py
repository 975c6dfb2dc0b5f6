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
    "ci_method": ("{level:.0%} confidence interval: {method}",
                  "{level:.0%} konfidensintervall: {method}"),
    "uniform_band_method": ("{level:.0%} uniform band: multiplier bootstrap",
                            "{level:.0%} simultant bånd: multiplikatorbootstrap"),
    "ci_pointwise_method": ("{level:.0%} pointwise confidence bands: {method}",
                            "{level:.0%} punktvise konfidensbånd: {method}"),
    "number_at_risk": ("Number at risk", "Antall i risiko"),
    "wtp_axis": ("Willingness to pay per additional work year (1,000 NOK)",
                 "Betalingsvilje per ekstra arbeidsår (1 000 kr)"),
    "probability_ce": ("Probability cost-effective (share of draws)",
                       "Sannsynlighet for kostnadseffektivitet (andel trekk)"),
    "ceac_title": ("Cost-effectiveness acceptability curve", "Akseptkurve for kostnadseffektivitet"),
    "tornado_title": ("One-way sensitivity", "Enveis sensitivitetsanalyse"),
    "input_low": ("Input at low end", "Inndata i nedre ende"),
    "input_high": ("Input at high end", "Inndata i øvre ende"),
    "mc_band": ("±2 Monte Carlo standard errors ({n} draws)",
                "±2 Monte Carlo-standardfeil ({n} trekk)"),
    "mc_bars": ("±2 Monte Carlo standard errors ({n} simulated panels)",
                "±2 Monte Carlo-standardfeil ({n} simulerte paneler)"),
    "npv_axis": ("{metric}, {year} prices", "{metric}, {year}-priser"),
    "true_effect": ("True effect ({unit})", "Sann effekt ({unit})"),
    "power": ("Power (rejection rate)", "Styrke (forkastningsrate)"),
    "power_title": ("Power by inference method", "Styrke etter inferensmetode"),
    "mde_axis": ("Minimum detectable effect, 80% power ({unit})",
                 "Minste påvisbare effekt, 80 % styrke ({unit})"),
    "n_controls": ("Number of control municipalities", "Antall kontrollkommuner"),
    "post_years": ("Years of follow-up after IPS start", "År med oppfølging etter IPS-oppstart"),
    "target_power": ("80% power", "80 % styrke"),
    "nominal_size": ("5% level", "5 %-nivå"),
    "mde_short": ("MDE {mde}", "MPE {mde}"),
    "mde_beyond": ("MDE beyond the simulated effects (80% power not reached)",
                   "MPE utenfor de simulerte effektene (80 % styrke ikke nådd)"),
    "persons_axis": ("Persons", "Personer"),
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

#: design name (``Results.design``) -> (English, Norwegian)
DESIGNS: dict[str, tuple[str, str]] = {
    "did": ("Difference-in-differences", "Forskjell-i-forskjeller"),
    "event": ("Event study", "Hendelsesstudie"),
    "synth": ("Synthetic control", "Syntetisk kontroll"),
    "sdid": ("Synthetic DiD", "Syntetisk forskjell-i-forskjeller"),
    "staggered": ("Staggered adoption", "Trinnvis innføring"),
    "bacon": ("Goodman-Bacon decomposition", "Goodman-Bacon-dekomponering"),
    "cox": ("Cox", "Cox"),
    "finegray": ("Fine–Gray", "Fine–Gray"),
    "dthazard": ("Discrete-time hazard", "Diskret tids hasard"),
    "km": ("Kaplan–Meier", "Kaplan–Meier"),
    "cuminc": ("Cumulative incidence", "Kumulativ insidens"),
    "economics": ("Cost-benefit", "Nytte-kostnad"),
}

#: inference method (``Results.inference``) -> (English, Norwegian)
INFERENCES: dict[str, tuple[str, str]] = {
    "placebo-t": ("Placebo-in-space, studentized", "Placebo i rom, studentisert"),
    "placebo": ("Placebo-in-space", "Placebo i rom"),
    "placebo-in-space": ("Placebo-in-space", "Placebo i rom"),
    "ferman-pinto": ("Ferman–Pinto", "Ferman–Pinto"),
    "conley-taber": ("Conley–Taber", "Conley–Taber"),
    "cluster": ("Clustered by municipality", "Klynget på kommune"),
    "person-cluster": ("Clustered by person (published method)", "Klynget på person (publisert metode)"),
    "cluster (analytic)": ("Clustered, analytic power", "Klynget, analytisk styrke"),
    "wild": ("Wild cluster bootstrap", "Vill klyngebootstrap"),
    "robust": ("Person-robust", "Robust på person"),
    "model": ("Model-based", "Modellbasert"),
    "crr": ("Fine–Gray sandwich", "Fine–Gray sandwich"),
    "greenwood": ("Greenwood", "Greenwood"),
    "aalen-johansen": ("Aalen–Johansen", "Aalen–Johansen"),
    "monte-carlo": ("Monte Carlo", "Monte Carlo"),
    "analytic": ("Analytic (influence function)", "Analytisk (influensfunksjon)"),
}

#: regression term (after :func:`canonical_term`) -> (English, Norwegian)
TERMS: dict[str, tuple[str, str]] = {
    "treated_post": ("Treated × post", "Behandlet × etter"),
    "exposed": ("Exposed to IPS", "Eksponert for IPS"),
    "treated": ("Treated municipality", "Behandlet kommune"),
    "post": ("Post period", "Etterperiode"),
    "female": ("Female", "Kvinne"),
    "att": ("ATT", "ATT"),
    "simple": ("Simple average", "Enkelt gjennomsnitt"),
    "calendar_year": ("Calendar year", "Kalenderår"),
    "age_band": ("Age {0}", "Alder {0}"),
    "npv_society_participant": ("Net present value to society per participant (NOK)",
                                "Samfunnsøkonomisk nåverdi per deltaker (kr)"),
    "npv_public_participant": ("Net present value to the public purse per participant (NOK)",
                               "Nåverdi for det offentlige per deltaker (kr)"),
    "cost_per_work_year": ("Cost per work year gained (NOK)", "Kostnad per vunnet arbeidsår (kr)"),
    "roi_society": ("Return on investment, society", "Avkastning, samfunnet"),
    "roi_public": ("Return on investment, public purse", "Avkastning, det offentlige"),
    "production_value_per_workday": ("Production value per workday (NOK)",
                                     "Produksjonsverdi per arbeidsdag (kr)"),
    "npv_society_municipality": ("Net present value to society, municipality (NOK)",
                                 "Samfunnsøkonomisk nåverdi, kommunen (kr)"),
    "npv_public_municipality": ("Net present value to the public purse, municipality (NOK)",
                                "Nåverdi for det offentlige, kommunen (kr)"),
    "pv_programme_cost": ("Present value of programme cost (NOK)",
                          "Nåverdi av programkostnad (kr)"),
    "pv_benefits_avoided": ("Present value of benefits avoided (NOK)",
                            "Nåverdi av sparte trygdeytelser (kr)"),
    "pv_production": ("Present value of production gained (NOK)",
                      "Nåverdi av økt produksjon (kr)"),
    "pv_tax": ("Present value of tax gained (NOK)", "Nåverdi av økte skatteinntekter (kr)"),
    "work_years": ("Work years gained", "Vunne arbeidsår"),
    "net_public_cost_per_work_year": ("Net public cost per work year gained (NOK)",
                                      "Netto offentlig kostnad per vunnet arbeidsår (kr)"),
    "specialist_salary": ("Job specialist salary", "Lønn jobbspesialist"),
    "overhead_rate": ("Overhead rate", "Påslag for felleskostnader"),
    "supervision_fte": ("Supervision (full-time equivalents)", "Veiledning (årsverk)"),
    "benefit_rate_scale": ("Benefit rates (scale)", "Ytelsessatser (skala)"),
    "tax_rate": ("Tax rate", "Skattesats"),
    "decay": ("Decay of the effect per year", "Avtakende effekt per år"),
    "discount_rate": ("Discount rate", "Diskonteringsrente"),
    "marginal_cost_public_funds": ("Marginal cost of public funds",
                                   "Marginal kostnad ved offentlig finansiering"),
    "effect": ("Effect on {0}", "Effekt på {0}"),
}

#: table column (``Results.tidy`` and analysis tables) -> (English, Norwegian)
COLUMNS: dict[str, tuple[str, str]] = {
    "term": ("Term", "Ledd"),
    "estimate": ("Estimate", "Estimat"),
    "std_error": ("Std. error", "Std.feil"),
    "statistic": ("Test statistic", "Testobservator"),
    "p_value": ("p-value", "p-verdi"),
    "conf_low": ("CI lower", "KI nedre"),
    "conf_high": ("CI upper", "KI øvre"),
    "outcome": ("Outcome", "Utfall"),
    "design": ("Design", "Design"),
    "inference": ("Inference", "Inferens"),
    "level": ("Level", "Nivå"),
    "aggregation": ("Aggregation", "Aggregering"),
    "estimand": ("Estimand", "Estimand"),
    "truth": ("True effect", "Sann effekt"),
    "covers_truth": ("CI covers truth", "KI dekker sann effekt"),
    "analytic_std_error": ("Analytic std. error", "Analytisk std.feil"),
    "event_time": ("Years since IPS start", "År siden IPS-oppstart"),
    "group": ("Group", "Gruppe"),
    "era": ("Period", "Periode"),
    "step": ("Step", "Steg"),
    "table": ("Register table", "Registertabell"),
    "metric": ("Metric", "Nøkkeltall"),
    "value": ("Value", "Verdi"),
    "exact": ("Exact", "Eksakt"),
    "published": ("Published", "Publisert"),
    "weight": ("Weight", "Vekt"),
    "type": ("Comparison", "Sammenligning"),
    "n": ("N (persons)", "N (personer)"),
    "n_obs": ("N (observations)", "N (observasjoner)"),
    "n_units": ("N (units)", "N (enheter)"),
    "n_persons": ("N (persons)", "N (personer)"),
    "n_person_years": ("N (person-years)", "N (personår)"),
    "n_treated": ("N (treated)", "N (behandlet)"),
    "n_controls": ("N (controls)", "N (kontroller)"),
    "n_total": ("N (total)", "N (totalt)"),
    "rows_read": ("Rows read", "Rader lest"),
    "rows_kept": ("Rows kept", "Rader beholdt"),
    "rows_merged": ("Rows merged", "Rader slått sammen"),
    "rows_quarantined": ("Rows quarantined", "Rader i karantene"),
    "treated": ("Treated", "Behandlet"),
    "controls": ("Controls", "Kontroller"),
    "post": ("Post period", "Etterperiode"),
    "pre": ("Pre period", "Førperiode"),
    "municipality": ("Municipality", "Kommune"),
    "person": ("Person", "Person"),
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


def pick(pair: tuple[str, str], lang: str) -> str:
    """The English or Norwegian text of an ``(English, Norwegian)`` pair (``lang`` checked)."""
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
    text = pick(pair, lang)
    return text.format(**fmt) if fmt else text


def outcome_label(outcome: str, lang: str = "en") -> str:
    """Axis label of an outcome (name from data contract, section 4); unknown names are returned as given."""
    check_lang(lang)
    pair = OUTCOMES.get(outcome)
    return pick(pair, lang) if pair else outcome


def metric_label(metric: str, lang: str = "en") -> str:
    """Label of a programme metric (:mod:`ips_study.caseload` name)."""
    check_lang(lang)
    pair = METRICS.get(metric)
    return pick(pair, lang) if pair else metric


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


def _lookup(table: dict[str, tuple[str, str]], key: str, lang: str) -> str | None:
    check_lang(lang)
    pair = table.get(str(key))
    return pick(pair, lang) if pair else None


def design_label(design: str, lang: str = "en") -> str:
    """Name of a design (``Results.design``); unknown names are returned as given.

    >>> design_label("finegray", "en")
    'Fine–Gray'
    """
    return _lookup(DESIGNS, design, lang) or str(design)


def inference_label(inference: str, lang: str = "en") -> str:
    """Name of an inference method (``Results.inference``); unknown names as given.

    >>> inference_label("placebo-t", "no")
    'Placebo i rom, studentisert'
    """
    return _lookup(INFERENCES, inference, lang) or str(inference)


#: covariates coded as 0/1 indicators: ``female_1`` and ``female[1]`` both mean ``female``
BINARY_TERMS = ("female", "treated", "post", "exposed")
#: categorical covariates: ``age_band_25-29``, ``C(age_band)[T.25-29]`` -> ``age_band[25-29]``
FACTOR_TERMS = ("age_band", "calendar_year", "municipality", "era")


def canonical_term(term: str) -> str:
    """One spelling of a regression term whatever the design matrix builder wrote.

    Dummies from ``pandas.get_dummies`` (``age_band_25-29``, ``female_1``) and patsy
    (``C(age_band)[T.25-29]``) become ``age_band[25-29]`` and ``female``.

    >>> [canonical_term(t) for t in ("female_1", "age_band_25-29", "C(age_band)[T.35+]", "exposed")]
    ['female', 'age_band[25-29]', 'age_band[35+]', 'exposed']
    """
    t = str(term).strip()
    m = re.fullmatch(r"C\((\w+)\)\[T\.(.+)\]", t)
    if m:
        t = f"{m.group(1)}[{m.group(2)}]"
    for name in BINARY_TERMS:
        if t in (f"{name}_1", f"{name}[1]", f"{name}[T.1]", f"{name}_True", f"{name}[True]"):
            return name
    for name in FACTOR_TERMS:
        if t.startswith(name + "_") and len(t) > len(name) + 1:
            return f"{name}[{t[len(name) + 1:]}]"
    return t


def term_label(term: str, lang: str = "en") -> str:
    """Human label of a regression term (via :func:`canonical_term`); unknown terms are
    returned with underscores as spaces and the first letter capitalised.

    >>> term_label("age_band_25-29"), term_label("female_1", "no")
    ('Age 25–29', 'Kvinne')
    """
    check_lang(lang)
    t = canonical_term(term)
    m = re.fullmatch(r"effect: (\w+)", t)
    if m:  # a tornado row: the effect estimate on an outcome varied over its interval
        name = outcome_label(m.group(1), lang)
        return pick(TERMS["effect"], lang).format(name[:1].lower() + name[1:])
    m = re.fullmatch(r"(\w+)\[(.+)\]", t)
    if m and m.group(1) in TERMS:
        level = m.group(2).replace("-", "–")
        return pick(TERMS[m.group(1)], lang).format(level)
    known = _lookup(TERMS, t, lang) or _lookup(OUTCOMES, t, lang)
    if known:
        return known
    text = t.replace("_", " ")
    return text[:1].upper() + text[1:]


def column_label(column: str, lang: str = "en") -> str:
    """Header of a table column; unknown names with underscores as spaces, capitalised.

    >>> column_label("std_error"), column_label("n_obs", "no")
    ('Std. error', 'N (observasjoner)')
    """
    known = _lookup(COLUMNS, column, lang)
    if known:
        return known
    text = str(column).replace("_", " ")
    return text[:1].upper() + text[1:]
