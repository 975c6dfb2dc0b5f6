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
    ``low``/``high`` bound numeric values; ``nullable`` says an empty value is valid.
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
                Column("grade", "float", nullable=True, low=0, high=100,
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
                Column("fte", "float", low=0, high=100, description="position percentage (stillingsprosent)"),
                Column("monthly_wage", "float", low=0, description="monthly wage, NOK (månedslønn)"),
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
                Column("employer_meetings", "int", low=0),
                Column("hours_worked", "float", low=0, high=168),
                Column("hours_in_community", "float", low=0, high=168),
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
                Column("centrality", "int", low=1, high=6),
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
