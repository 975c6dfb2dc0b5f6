"""The register data contract: every table, column, type and allowed value in one place.

Tables (data contract, section 2), with their Norwegian sources:

``persons``
    Population register (Folkeregisteret via SSB): one row per person.
``residence``
    Residence spells (bostedskommune) from the population register; gaps mean emigrated
    or unknown.
``benefits``
    Benefit spells from FD-Trygd / NAV. ``benefit`` values: ``disability_pension``
    (uføretrygd / uførepensjon), ``work_assessment`` (arbeidsavklaringspenger, AAP, from
    March 2010, and its predecessors before), ``sickness`` (sykepenger), ``unemployment``
    (dagpenger), ``social_assistance`` (økonomisk sosialhjelp), ``qualification``
    (kvalifiseringsstønad).
``employment``
    Employment spells from the employer-employee register (Aa-registeret / A-ordningen).
    A spell counts as work only if ``fte > 0`` and ``monthly_wage > 0``.
``diagnoses``
    Contacts with a diagnosis: specialist care (Norsk pasientregister, NPR, ICD-10) and
    primary care (KUHR, ICPC-2).
``ips_caseload``
    The IPS programme's own quality register (one row per job seeker episode).
``specialist_weeks``
    Weekly activity reports of the job specialists (jobbspesialister).
``municipalities``
    Study units (kommuner) with county (fylke), centrality (sentralitetsindeks 1-6) and
    the IPS start date.
``municipality_changes``
    Municipality code reforms (kommunereform 2018, 2020, 2024).

Example
-------
>>> TABLES["benefits"].column("benefit").allowed[:2]
('disability_pension', 'work_assessment')
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Column kinds understood by the readers.
KINDS = ("id", "str", "date", "int", "float", "code", "municipality")

BENEFITS = (
    "disability_pension",
    "work_assessment",
    "sickness",
    "unemployment",
    "social_assistance",
    "qualification",
)
HEALTH_BENEFITS = ("disability_pension", "work_assessment", "sickness")


@dataclass(frozen=True)
class Column:
    """One column of a register table.

    ``kind`` is one of :data:`KINDS`; ``allowed`` lists the valid codes of a ``code`` column;
    ``aliases`` maps accepted source codes to the canonical code (``"2" -> "F"``);
    ``low``/``high`` bound numeric values (plausibility bounds, :data:`bound_source` says
    why); ``nullable`` says an empty value is valid. Dates of every column lie in
    1880-01-01 .. 2100-12-31 (:data:`DATE_BOUNDS`).
    """

    name: str
    kind: str
    nullable: bool = False
    allowed: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)
    low: float | None = None
    high: float | None = None
    description: str = ""
    #: dates that may lie after the delivery's as-of date (planned ends, announced reforms)
    future_ok: bool = False
    #: where ``low``/``high`` come from (a definition, a published statistic or a judgement)
    bound_source: str = ""


@dataclass(frozen=True)
class Table:
    """A register table: its columns, whether it is required, and its spell structure."""

    name: str
    columns: tuple[Column, ...]
    required: bool = True
    #: (start, end) columns for spell tables, else None
    spell: tuple[str, str] | None = None
    #: columns identifying a spell "of the same kind" for merging (besides person_id)
    merge_keys: tuple[str, ...] = ()
    #: column(s) that must be unique (primary key)
    unique: tuple[str, ...] = ()
    #: whether rows must refer to a person in ``persons``
    person_linked: bool = True
    description: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


#: Date plausibility bounds of every date column and their source.
DATE_BOUNDS = ("1880-01-01", "2100-12-31")
DATE_BOUNDS_SOURCE = ("no person alive in a register since 1967 (Folkeregisteret on computer) was born"
                      " before 1880; no planned end or reform is announced beyond 2100")
#: Monthly wage ceiling (NOK). SSB's earnings statistics (Lønnsstatistikk, table 11418) put
#: average monthly earnings near 56,000 NOK in 2023 and the top percentile far below one
#: million; 2 million per month is a judgement well above any real monthly wage, so that a
#: value beyond it is a unit error (øre, a yearly sum) or a corrupt value, never a real wage.
WAGE_HIGH = 2_000_000.0
_WAGE_SOURCE = ("judgement: 35x SSB average monthly earnings (Lønnsstatistikk, table 11418, about 56,000 NOK in"
                " 2023); above it the value is in øre, a yearly sum or corrupt")
_PERCENT_SOURCE = "definition: a percentage of a full position or of a full benefit (0-100)"
_WEEK_HOURS_SOURCE = "definition: a week has 168 hours"

_pid = Column("person_id", "id", description="pseudonymised person identifier (løpenummer)")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "persons",
            (
                _pid,
                Column("birth_date", "date", description="date of birth (fødselsdato)"),
                Column("sex", "code", allowed=("F", "M"), aliases={"2": "F", "1": "M", "K": "F"},
                       description="sex (kjønn); SSB codes 2 = female, 1 = male accepted"),
                Column("death_date", "date", nullable=True, description="date of death (dødsdato)"),
            ),
            unique=("person_id",),
            person_linked=False,
            description="Population register: one row per person.",
        ),
        Table(
            "residence",
            (
                _pid,
                Column("municipality", "municipality", description="municipality of residence (bostedskommune)"),
                Column("start_date", "date"),
                Column("end_date", "date", nullable=True, future_ok=True),
            ),
            spell=("start_date", "end_date"),
            merge_keys=("municipality",),
            description="Residence spells; gaps mean emigrated or unknown.",
        ),
        Table(
            "benefits",
            (
                _pid,
                Column("benefit", "code", allowed=BENEFITS),
                Column("start_date", "date"),
                Column("end_date", "date", nullable=True, future_ok=True),
                Column("grade", "float", nullable=True, low=0, high=100, bound_source=_PERCENT_SOURCE,
                       description="benefit grade in percent (ytelsesgrad / uføregrad)"),
            ),
            spell=("start_date", "end_date"),
            merge_keys=("benefit", "grade"),
            description="Benefit spells (FD-Trygd-like).",
        ),
        Table(
            "employment",
            (
                _pid,
                Column("employer_id", "str"),
                Column("start_date", "date"),
                Column("end_date", "date", nullable=True, future_ok=True),
                Column("fte", "float", low=0, high=100, bound_source=_PERCENT_SOURCE,
                       description="position percentage (stillingsprosent)"),
                Column("monthly_wage", "float", low=0, high=WAGE_HIGH, bound_source=_WAGE_SOURCE,
                       description="monthly wage, NOK (månedslønn)"),
            ),
            spell=("start_date", "end_date"),
            merge_keys=("employer_id", "fte", "monthly_wage"),
            description="Employment spells (Aa-registeret / A-ordningen).",
        ),
        Table(
            "diagnoses",
            (
                _pid,
                Column("date", "date"),
                Column("system", "code", allowed=("ICD10", "ICPC2"),
                       aliases={"ICD-10": "ICD10", "ICPC-2": "ICPC2"}),
                Column("code", "str"),
                Column("source", "code", allowed=("specialist", "primary")),
            ),
            description="Diagnosed contacts: NPR (ICD-10) and KUHR (ICPC-2).",
        ),
        Table(
            "ips_caseload",
            (
                _pid,
                Column("specialist_id", "str"),
                Column("service", "str", description="referring service (psychosis team, municipal service)"),
                Column("referral_date", "date"),
                Column("start_date", "date", nullable=True, description="first meeting with the job specialist"),
                Column("first_employer_contact_date", "date", nullable=True),
                Column("job_start_date", "date", nullable=True),
                Column("end_date", "date", nullable=True, future_ok=True),
                Column("end_reason", "str", nullable=True),
            ),
            required=False,
            description="IPS programme quality register (one row per job seeker episode).",
        ),
        Table(
            "specialist_weeks",
            (
                Column("specialist_id", "str"),
                Column("week_start", "date"),
                Column("employer_meetings", "int", low=0, high=168,
                       bound_source="judgement: at most one meeting per hour of the week (168); the IPS"
                                    " fidelity scale (Becker et al.) expects about 6 contacts a week"),
                Column("hours_worked", "float", low=0, high=168, bound_source=_WEEK_HOURS_SOURCE),
                Column("hours_in_community", "float", low=0, high=168, bound_source=_WEEK_HOURS_SOURCE),
            ),
            required=False,
            unique=("specialist_id", "week_start"),
            person_linked=False,
            description="Weekly activity reports of the job specialists.",
        ),
        Table(
            "municipalities",
            (
                Column("municipality", "municipality"),
                Column("name", "str"),
                Column("county", "str"),
                Column("centrality", "int", low=1, high=6,
                       bound_source="definition: SSB's centrality index (sentralitetsindeks) has classes 1-6"),
                Column("ips_start", "date", nullable=True, future_ok=True),
            ),
            unique=("municipality",),
            person_linked=False,
            description="Study units.",
        ),
        Table(
            "municipality_changes",
            (
                Column("old_code", "municipality"),
                Column("new_code", "municipality"),
                Column("valid_from", "date", future_ok=True),
            ),
            required=False,
            person_linked=False,
            description="Municipality code reforms.",
        ),
    )
}

REQUIRED_TABLES = tuple(name for name, t in TABLES.items() if t.required)
