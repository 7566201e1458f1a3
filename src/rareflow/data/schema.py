"""The embedded dataset's tables, described as data.

Each table is a tidy CSV file in ``rareflow/data/tables``. Entity tables (sources, elements,
countries, ...) define ids; value tables hold numbers in long form. Every value row carries the
common columns ``value, low, high, unit, year, source_id, choice, note``:

- ``value``: the central figure; ``low`` and ``high``: an optional published range around it;
- ``unit``: a symbol from :mod:`rareflow.units` (the mass basis is part of it: ``t_reo``);
- ``year``: the year the figure refers to (a fiscal year is named by the year it ends in);
- ``source_id``: a row of ``sources.csv``; a source of kind ``assumption`` marks an assumption;
- ``choice``: ``chosen`` for the value rareflow uses, ``alternative`` for a conflicting figure kept
  beside it (the note says why one was chosen);
- ``note``: what the figure is, and anything a reader must know.

The loader (:mod:`rareflow.data.load`) checks every rule written here and names the file, row and
column of each problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from rareflow.ids import Choice, Element, ElementGroup, Sector, Stage
from rareflow.units import Kind


class ColumnType(StrEnum):
    """How a column's text is parsed."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name
        Header name.
    type
        How the text is parsed.
    required
        Whether an empty cell is an error.
    references
        Name of the entity table whose ids this column must match.
    allowed
        Closed vocabulary of allowed values.
    description
        Plain words, shown by ``rareflow data show --schema``.
    """

    name: str
    type: ColumnType = ColumnType.TEXT
    required: bool = True
    references: str | None = None
    allowed: tuple[str, ...] | None = None
    description: str = ""


@dataclass(frozen=True)
class ShareGroup:
    """Rows whose chosen values are shares that must sum to 1 within each group."""

    by: tuple[str, ...]
    where: dict[str, str] = field(default_factory=dict)
    tolerance: float = 0.005


SPELLED_OUT = 3
"""Up to this many first-column values, a message lists every key read, not only the values."""


@dataclass(frozen=True, eq=False)
class Reads:
    """The keys of a table's rows that the model reads.

    A row with any other key would change no result, so a user's table that adds one is refused
    (no silent no-ops).

    The accessors that read the table call :meth:`read` for each key they look up, which refuses a
    key not declared here and records the ones asked for (``requested``); a test builds every
    lever and checks that the declared keys are exactly the ones asked for, and that every row of
    the embedded table has a declared key.

    Parameters
    ----------
    columns
        The two key columns checked (``lever``, ``parameter``).
    keys
        The second column's values read, by the first column's value.
    reader
        What reads the rows, for messages.
    where
        Other columns a row must have this value in to be read (the destination of a control's
        rows); empty: none.
    context
        For a table most of whose rows are context (shown by ``rareflow data``, reports and the
        docs, but not model inputs), what those rows are, for messages; empty: every embedded
        row must have a key read.
    """

    columns: tuple[str, str]
    keys: Mapping[str, tuple[str, ...]]
    reader: str
    where: Mapping[str, str] = field(default_factory=dict)
    context: str = ""
    requested: set[tuple[str, str]] = field(default_factory=set, compare=False, repr=False)

    def allows(self, first: str, second: str) -> bool:
        """Whether the model reads rows with this key."""
        return second in self.keys.get(first, ())

    def expected(self, first: str) -> str:
        """Return the keys read, in words: those of ``first`` if it has any, else every first."""
        a, b = self.columns
        only = "".join(f" with {c} {v}" for c, v in self.where.items())
        if first in self.keys:
            return f"for {a} '{first}' it reads {b} {', '.join(self.keys[first])}{only}"
        if len(self.keys) <= SPELLED_OUT:
            each = "; ".join(f"{a} {k} {b} {', '.join(v)}" for k, v in self.keys.items())
            return f"it reads only {each}{only}"
        return f"it reads rows of {a} {', '.join(self.keys)}{only}"

    def read(self, first: str, second: str) -> None:
        """Record that the model asks for a key.

        Raises
        ------
        KeyError
            If the key is not declared (the code reads a row this declaration leaves out).
        """
        if not self.allows(first, second):
            a, b = self.columns
            raise KeyError(
                f"{a} '{first}', {b} '{second}' is not declared as read ({self.expected(first)})"
            )
        self.requested.add((first, second))


@dataclass(frozen=True)
class Table:
    """A dataset table.

    Parameters
    ----------
    name
        File stem (``name.csv``).
    description
        What it holds.
    key
        Columns that identify an entity (entity tables) or a figure (value tables, with ``choice``
        and ``source_id`` added: one chosen row per key).
    columns
        The table's own columns; value tables get :data:`VALUE_COLUMNS` appended.
    is_values
        Whether this is a value table.
    unit_kinds
        Allowed unit kinds for value tables.
    units
        Allowed unit symbols, if narrower than the kinds.
    allow_negative
        Whether ``value`` may be negative (growth rates).
    shares
        Share groups that must sum to 1.
    reads
        The keys of its rows the model reads, where the table is keyed by what reads it (a lever
        and a parameter); None: not checked.
    """

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    is_values: bool = True
    unit_kinds: tuple[Kind, ...] = ()
    units: tuple[str, ...] = ()
    allow_negative: bool = False
    shares: tuple[ShareGroup, ...] = ()
    reads: Reads | None = None

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Own columns, then the common value columns for value tables."""
        return self.columns + (VALUE_COLUMNS if self.is_values else ())

    @property
    def filename(self) -> str:
        """The CSV file's name."""
        return f"{self.name}.csv"


def _enum(e: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in e)


SOURCE_KINDS = (
    "dataset",
    "report",
    "paper",
    "law",
    "government",
    "company",
    "news",
    "standard",
    "assumption",
    "calibration",
)
SOURCE = Column("source_id", references="sources", description="id of a row in sources.csv")
NOTE = Column("note", required=False, description="what the figure is, caveats, choice made")

VALUE_COLUMNS: tuple[Column, ...] = (
    Column("value", ColumnType.NUMBER, description="central figure"),
    Column("low", ColumnType.NUMBER, required=False, description="low end of a published range"),
    Column("high", ColumnType.NUMBER, required=False, description="high end of a published range"),
    Column("unit", description="unit symbol from rareflow.units (mass basis included)"),
    Column("year", ColumnType.INTEGER, description="year the figure refers to (FY: year it ends)"),
    SOURCE,
    Column("choice", allowed=_enum(Choice), description="chosen, or an alternative kept beside it"),
    NOTE,
)

COUNTRY = Column("country", references="countries", description="ISO 3166-1 alpha-3 code")
ELEMENT = Column("element", allowed=_enum(Element), description="rare-earth element symbol")
STAGE = Column("stage", allowed=_enum(Stage), description="value-chain stage")
SECTOR = Column("sector", allowed=_enum(Sector), description="end-use sector")
MATERIAL = Column("material", references="materials", description="material id")
EDITION = Column("edition", allowed=("mcs2025", "mcs2026"), description="USGS MCS edition")
MASS_KINDS = (Kind.MASS, Kind.MASS_RATE)
IN_USE_PARAMETERS = ("backcast_growth", "cumulative_activity", "share_exported")
"""Parameters of ``in_use_history``, read by :mod:`rareflow.stocks.in_use`."""
MAGNET_ROUTES = ("bare_import", "embedded_import", "domestic")
"""How a sector's magnets reach it: bare magnets imported, magnets inside imported motors,
sub-assemblies and modules, and magnets made in the country (issue 16)."""
MAGNET_GRADES = ("ndfeb_heavy", "ndfeb_light", "ndfeb_bonded", "smco")
"""Grade classes: sintered NdFeB with Dy and/or Tb (high operating temperature), Dy/Tb-free
('light rare-earth') sintered NdFeB, bonded NdFeB, and SmCo."""
GRADE_METRICS = ("share_of_need", "content_dy", "content_tb")
"""``magnet_grades`` metrics: a sector's share of need in a grade class, or a class's Dy or Tb
mass fraction (rows of sector ``all``)."""
BUYER_METRICS = ("share_of_sector", "cover", "adaptation_lag")
"""``buyer_groups`` metrics: share of the sector's magnet need, stock cover on the day a control
starts, and time to the group's main adaptation."""
ADAPTATION_MECHANISMS = (
    "light_re_grades",
    "import_complete_motors",
    "divert_irel_exports",
    "emergency_licences",
)
"""Ways industry and government adapt to a magnet shortage (issue 16 item 4)."""
ADAPTATION_READS: Mapping[str, tuple[str, ...]] = {
    "light_re_grades": ("lag", "max_share"),
    "import_complete_motors": ("lag", "max_share"),
    "divert_irel_exports": ("capacity", "lag", "ndpr_share"),
    "emergency_licences": ("lag",),
}
"""The ``adaptation`` parameters each mechanism's lever reads (any sector's row, or ``all``)."""
ADAPTATION_PARAMETERS = ("lag", "capacity", "max_share", "ndpr_share")
"""``adaptation`` parameters: time to effect, how much it can supply, the largest share of a
sector's need it can serve, and the NdPr oxide share of diverted materials. Costs are
``lever_costs`` premiums."""
IMPORTER_METRICS = ("share_of_china_magnet_exports", "cover", "first_licence_delay")
"""``importers`` metrics: the demand weight an importer competes with (its share of China's magnet
exports), its industry's magnet stocks, and days from a control's start to its first licences."""
RECYCLING_ROUTES = ("any", "magnet_to_magnet", "hydromet_to_oxide")
"""Routes of ``recycling`` rows: 'any' for collection and pre-processing, which come first."""
RECYCLING_PARAMETERS = (
    "collection_rate_formal",
    "share_informal",
    "preprocessing_yield",
    "recovery",
    "lead_time",
    "reference_capex",
    "reference_capacity",
)
"""Parameters of ``recycling``, read by :mod:`rareflow.scenario.levers.recycling`."""
RECYCLING_READS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("collection_rate_formal", "share_informal", "preprocessing_yield"),
        (*(s.value for s in Sector), "all"),
    ),
    **dict.fromkeys(("recovery", "lead_time", "reference_capex", "reference_capacity"), ("all",)),
}
"""The ``recycling`` sectors read, by parameter: collection and pre-processing by sector (every
sector with end-of-life magnets, falling back to ``all``), a route's recovery, lead time and
reference plant for ``all`` sectors only (:func:`rareflow.data.query.recycling_row`)."""

LEVERS = (
    "bioleaching",
    "capacity",
    "consortium",
    "divert_irel_exports",
    "emergency_licences",
    "exploration_pipeline",
    "finance",
    "import_complete_motors",
    "light_re_grades",
    "magnet_cluster",
    "magnet_scheme",
    "partner_capacity",
    "private_blocks",
    "private_buffer",
    "recycling",
    "regulatory_reform",
    "south_south_corridor",
    "stockpile",
    "substitution",
    "supply_contract",
    "technology_tie",
)
"""Lever types of ``lever_costs``: the ``type`` of each lever of :mod:`rareflow.scenario.levers`."""
LEVER_COST_PARAMETERS = (
    "discount_rate",
    "capex",
    "reference_capacity",
    "opex",
    "unit_cost",
    "programme_cost",
    "premium",
    "holding_cost",
    "lead_time",
    "separation_capex",
    "royalty",
)
"""Parameters of ``lever_costs``: the rate lever costs are discounted at (lever ``all``);
capital cost of a reference project and the capacity it buys; capital cost of separation per t
a year of capacity; a licence royalty (share of the value of what the licensed process makes);
operating cost per kg of output; a cost per kg handled (ore, scrap); a public programme's outlay;
a premium over the market price; a yearly holding cost (share of the value held); years from
decision to output."""
LEVER_COST_READS: Mapping[str, tuple[str, ...]] = {
    "all": ("discount_rate",),
    "bioleaching": ("capex", "reference_capacity", "unit_cost"),
    "capacity": ("capex", "reference_capacity", "opex"),
    "consortium": ("capex", "premium"),
    "divert_irel_exports": ("premium",),
    "emergency_licences": ("premium",),
    "exploration_pipeline": ("capex", "reference_capacity", "separation_capex"),
    "finance": ("capex", "reference_capacity", "opex"),
    "import_complete_motors": ("premium",),
    "light_re_grades": ("premium",),
    "magnet_cluster": ("capex",),
    "partner_capacity": ("capex", "premium"),
    "private_blocks": ("capex",),
    "private_buffer": ("holding_cost",),
    "recycling": ("opex", "separation_capex"),
    "regulatory_reform": ("programme_cost",),
    "south_south_corridor": ("capex", "premium"),
    "stockpile": ("holding_cost",),
    "substitution": ("premium",),
    "supply_contract": ("premium",),
    "technology_tie": ("programme_cost", "royalty"),
}
"""The ``lever_costs`` parameters read, by lever: the rows the levers' cost fields default to
(their ``cost_defaults``, a capacity plant's read as a magnet plant's ``finance`` rows and the
other way round) and the discount rate."""
POLICY_READS: Mapping[str, tuple[str, ...]] = {
    "ncmm": ("outlay_government", "outlay_psu"),
}
"""The ``policies`` parameters read, by policy: the National Critical Mineral Mission's outlays,
the exploration pipeline's cost (:func:`rareflow.data.query.policy`). The other rows are context:
the levers' field defaults cite them (the magnet scheme's figures, the DoD floor), ``rareflow data
show`` and the docs show them."""
CONTROL_PARAMETER_READS: Mapping[str, tuple[str, ...]] = {
    "cn-2025-04": ("first_licence_delay",),
}
"""The ``control_parameters`` parameters read, by control (destination IND): the days to India's
first licences, set beside the model's delay by ``rareflow backtest 2025``
(:func:`rareflow.data.query.control_row`). The other rows are context: the presets' licence
delays and approval counts cite them."""

TABLES: tuple[Table, ...] = (
    Table(
        "sources",
        "Full citation of every source, and the assumption sources that label rareflow's own.",
        key=("source_id",),
        is_values=False,
        columns=(
            Column("source_id", description="short id, e.g. usgs-mcs2026"),
            Column("kind", allowed=SOURCE_KINDS),
            Column("author", description="author or organisation"),
            Column("title"),
            Column("publisher", required=False),
            Column("year", ColumnType.INTEGER, description="year of publication"),
            Column(
                "published",
                required=False,
                description="date of publication as precise as found: YYYY-MM-DD, YYYY-MM or "
                "YYYY (empty: the year); what a backtest may know as of a date",
            ),
            Column("url", required=False),
            NOTE,
        ),
    ),
    Table(
        "elements",
        "The 17 rare-earth elements: atomic weight, light/heavy class and oxide formula.",
        key=("element",),
        is_values=False,
        columns=(
            ELEMENT,
            Column("name"),
            Column("atomic_number", ColumnType.INTEGER),
            Column("atomic_weight_g_per_mol", ColumnType.NUMBER),
            Column("group", allowed=_enum(ElementGroup)),
            Column("oxide_formula", description="e.g. Nd2O3"),
            Column("oxide_metal_atoms", ColumnType.INTEGER),
            Column("oxide_oxygen_atoms", ColumnType.INTEGER),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "countries",
        "Countries (ISO 3166-1 alpha-3), plus ROW for 'rest of world / other' in share tables.",
        key=("country",),
        is_values=False,
        columns=(
            Column("country", description="ISO 3166-1 alpha-3 code, or ROW"),
            Column("iso2", description="ISO 3166-1 alpha-2 code (XX for ROW)"),
            Column("name"),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "stages",
        "Stages of the chain and the mass basis their output is counted in.",
        key=("stage",),
        is_values=False,
        columns=(
            STAGE,
            Column("name"),
            Column("output_basis", allowed=("reo", "oxide", "metal", "alloy", "magnet", "gross")),
            Column("description"),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "materials",
        "Materials: concentrates, oxides, metals, alloys, magnets, substitutes, trade aggregates.",
        key=("material",),
        is_values=False,
        columns=(
            Column("material", description="id, e.g. oxide_nd, magnet_ndfeb_sintered"),
            Column("name"),
            STAGE,
            Column(
                "form",
                allowed=(
                    "concentrate",
                    "compound",
                    "oxide",
                    "metal",
                    "alloy",
                    "magnet",
                    "substitute",
                    "aggregate",
                ),
            ),
            Column("element", required=False, allowed=_enum(Element), description="if one element"),
            Column("family", required=False, description="e.g. ndpr, heavy, mixed, ndfeb"),
            Column("basis", allowed=("reo", "oxide", "metal", "alloy", "magnet", "gross")),
            Column("hs_code", required=False, description="HS code(s) for trade aggregates"),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "sectors",
        "End-use sectors and the unit their activity is counted in.",
        key=("sector",),
        is_values=False,
        columns=(
            SECTOR,
            Column("name"),
            Column(
                "activity_unit",
                allowed=("units_per_year", "mw_per_year", "t_magnet_per_year"),
                description="units or MW a year; t_magnet_per_year where no unit count exists "
                "and the sector's magnet need is given directly (its intensities are then the "
                "split by magnet type, as fractions)",
            ),
            Column("description"),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "deposit_types",
        "Deposit types whose ore is mined (bastnaesite, monazite, ionic clay, ...).",
        key=("deposit_type",),
        is_values=False,
        columns=(
            Column("deposit_type"),
            Column("name"),
            Column("mineral"),
            Column("example_deposit", required=False),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "groupings",
        "Partner groupings (Minerals Security Partnership, Quad, ...) and their members.",
        key=("grouping", "country"),
        is_values=False,
        columns=(
            Column("grouping", description="e.g. MSP, QUAD"),
            COUNTRY,
            Column("joined", ColumnType.DATE, required=False, description="YYYY-MM-DD"),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "export_controls",
        "Export-control measures: one row per measure and element (or rule).",
        key=("control_id", "element"),
        is_values=False,
        columns=(
            Column("control_id", description="e.g. cn-2025-04"),
            Column("authority", description="e.g. MOFCOM/GAC Announcement 18 (2025)"),
            Column("country", references="countries", description="controlling country"),
            Column("announced", ColumnType.DATE),
            Column("effective", ColumnType.DATE),
            Column("suspended_from", ColumnType.DATE, required=False),
            Column("suspended_until", ColumnType.DATE, required=False),
            Column("element", required=False, allowed=_enum(Element), description="blank: a rule"),
            Column(
                "scope", description="materials covered, e.g. 'metal;oxide;alloy;compound;magnet'"
            ),
            SOURCE,
            NOTE,
        ),
    ),
    Table(
        "mine_production",
        "World mine production by country (USGS MCS; both editions kept).",
        key=("country", "edition", "year"),
        columns=(COUNTRY, EDITION),
        units=("t_reo",),
    ),
    Table(
        "reserves",
        "Reserves by country (USGS MCS; both editions kept).",
        key=("country", "edition", "year"),
        columns=(COUNTRY, EDITION),
        units=("t_reo",),
    ),
    Table(
        "stage_shares",
        "Country shares of world output or capacity at each stage (e.g. China 91% of separation).",
        key=("stage", "country", "metric", "year"),
        columns=(
            STAGE,
            COUNTRY,
            Column("metric", allowed=("share_of_output", "share_of_capacity")),
        ),
        units=("fraction",),
    ),
    Table(
        "stage_output",
        "Output or capacity by stage, country and material (company and agency figures).",
        key=("stage", "country", "material", "metric", "year"),
        columns=(
            STAGE,
            COUNTRY,
            MATERIAL,
            Column("metric", allowed=("output", "capacity", "quota")),
        ),
        unit_kinds=MASS_KINDS,
    ),
    Table(
        "deposit_element_shares",
        "Share of each element in the total REO of a deposit type's ore.",
        key=("deposit_type", "element"),
        columns=(Column("deposit_type", references="deposit_types"), ELEMENT),
        units=("fraction",),
        shares=(ShareGroup(by=("deposit_type",), tolerance=0.01),),
    ),
    Table(
        "country_deposit_mix",
        "Share of each deposit type in a country's mine production (REO basis).",
        key=("country", "deposit_type"),
        columns=(COUNTRY, Column("deposit_type", references="deposit_types")),
        units=("fraction",),
        shares=(ShareGroup(by=("country",)),),
    ),
    Table(
        "india_resources",
        "India's rare-earth resources (monazite, hard rock): resources, not reserves.",
        key=("resource", "metric", "year"),
        columns=(
            Column("resource", description="e.g. monazite_beach_sand, hard_rock"),
            Column("metric", allowed=("ore_or_mineral", "contained_reo", "deposits")),
        ),
        unit_kinds=(Kind.MASS, Kind.COUNT),
    ),
    Table(
        "facilities",
        "Plants by country and stage, with capacity or output, operating or planned.",
        key=("facility", "material", "metric", "year"),
        columns=(
            Column("facility", description="e.g. irel-aluva"),
            COUNTRY,
            Column("operator"),
            STAGE,
            MATERIAL,
            Column("metric", allowed=("capacity", "output", "planned_capacity")),
            Column("status", allowed=("operating", "planned", "under_construction", "proposed")),
            Column("start_year", ColumnType.INTEGER, required=False),
        ),
        unit_kinds=MASS_KINDS,
    ),
    Table(
        "trade",
        "Trade of the focal country by partner: quantities, values and partner shares.",
        key=("importer", "partner", "material", "metric", "year"),
        columns=(
            Column("importer", references="countries"),
            Column("partner", references="countries", description="exporter, or ROW for other"),
            MATERIAL,
            Column("metric", allowed=("quantity", "value", "share_of_quantity", "share_of_value")),
        ),
        unit_kinds=(Kind.MASS, Kind.MONEY, Kind.FRACTION),
        shares=(
            ShareGroup(by=("importer", "material", "year"), where={"metric": "share_of_quantity"}),
            ShareGroup(by=("importer", "material", "year"), where={"metric": "share_of_value"}),
        ),
    ),
    Table(
        "importers",
        "Importing regions that compete for supply when an exporter controls exports: each one's "
        "share of China's magnet exports, industry stock cover and the days to its first licences "
        "(2025).",
        key=("importer", "metric", "year"),
        columns=(
            Column("importer", references="countries", description="ISO alpha-3, EUU or ROW"),
            Column("metric", allowed=IMPORTER_METRICS),
        ),
        unit_kinds=(Kind.FRACTION, Kind.DURATION),
        shares=(ShareGroup(by=("metric",), where={"metric": "share_of_china_magnet_exports"}),),
    ),
    Table(
        "partner_risk",
        "Each partner's governance scores for risk indicators: World Bank WGI Political "
        "Stability (GeoPolRisk's g, the JRC supply risk's WGI).",
        key=("country", "metric", "year"),
        columns=(COUNTRY, Column("metric", allowed=("wgi_political_stability",))),
        units=("index",),
        allow_negative=True,
    ),
    Table(
        "supplier_headroom",
        "How far a supplier can raise output within a year, as a share of its output (ROW: any "
        "supplier without its own row).",
        key=("country", "metric", "year"),
        columns=(COUNTRY, Column("metric", allowed=("headroom",))),
        units=("fraction",),
    ),
    Table(
        "sector_activity",
        "Activity of each end-use sector of a country: units produced or sold, MW installed.",
        key=("country", "sector", "metric", "year"),
        columns=(
            COUNTRY,
            SECTOR,
            Column("metric", allowed=("production", "sales", "installed")),
        ),
        unit_kinds=(Kind.COUNT_RATE, Kind.MASS_RATE),
    ),
    Table(
        "unit_values",
        "Value of one unit of a sector's product (a vehicle, a MW of turbines), to value "
        "production lost.",
        key=("country", "sector", "year"),
        columns=(COUNTRY, SECTOR),
        units=("inr_per_unit", "inr_crore_per_mw"),
    ),
    Table(
        "intensities",
        "Magnet use per product (kg per unit or t per MW) and the share of units using it.",
        key=("sector", "material", "metric"),
        columns=(
            SECTOR,
            MATERIAL,
            Column("metric", allowed=("intensity", "share_of_units")),
        ),
        unit_kinds=(Kind.INTENSITY, Kind.FRACTION),
    ),
    Table(
        "demand_growth",
        "Growth of each sector's activity per year; a country's 'all' row is the fallback for a "
        "sector without its own.",
        key=("country", "sector", "year"),
        columns=(
            COUNTRY,
            Column(
                "sector",
                allowed=(*_enum(Sector), "all"),
                description="end-use sector, or 'all': the economy-wide rate used for a sector "
                "without its own row",
            ),
        ),
        units=("fraction_per_year",),
        allow_negative=True,
    ),
    Table(
        "world_demand",
        "World demand for rare earths by use or element group.",
        key=("item", "scenario", "year"),
        columns=(
            Column("item", description="e.g. magnet_rare_earths (Nd, Pr, Dy, Tb)"),
            Column("scenario", description="e.g. observed, iea_aps"),
        ),
        unit_kinds=MASS_KINDS,
    ),
    Table(
        "prices",
        "Prices by material and market.",
        key=("material", "market", "year"),
        columns=(MATERIAL, Column("market", description="e.g. fob_china, europe")),
        unit_kinds=(Kind.PRICE,),
    ),
    Table(
        "process_parameters",
        "Yields and losses along the chain, and other process figures.",
        key=("parameter", "stage"),
        columns=(Column("parameter"), STAGE),
        unit_kinds=(Kind.FRACTION, Kind.INDEX),
    ),
    Table(
        "magnet_composition",
        "Mass fraction of each component in a magnet or alloy (typical, low, high).",
        key=("material", "component", "metric"),
        columns=(
            MATERIAL,
            Column(
                "component",
                allowed=(*_enum(Element), "Fe", "B", "Co", "Cu", "other"),
                description="element symbol or Fe, B, Co, Cu, other",
            ),
            Column("metric", allowed=("typical", "low", "high")),
        ),
        units=("fraction",),
        shares=(ShareGroup(by=("material",), where={"metric": "typical"}, tolerance=0.01),),
    ),
    Table(
        "lead_times",
        "Time from decision (or discovery) to output for mines, plants and other projects.",
        key=("project_type", "metric"),
        columns=(
            Column("project_type"),
            Column("metric", allowed=("mean", "min", "max", "typical")),
        ),
        unit_kinds=(Kind.DURATION,),
    ),
    Table(
        "lifetimes",
        "Product lifetimes by sector, with their distribution's parameters.",
        key=("sector", "distribution", "parameter"),
        columns=(
            SECTOR,
            Column("distribution", allowed=("normal", "weibull", "lognormal", "fixed")),
            Column("parameter", allowed=("mean", "sd", "shape", "scale")),
        ),
        unit_kinds=(Kind.DURATION, Kind.INDEX),
    ),
    Table(
        "episode_series",
        "Backtest episodes: the inputs a run is set up from, and the observed series it is held "
        "against (fitted targets, or context shown beside the model).",
        key=("episode", "series", "period"),
        columns=(
            Column("episode", description="backtest episode, e.g. 2010"),
            Column("series", description="what the figure is, e.g. export_quota, price_nd_oxide"),
            Column(
                "period",
                description="YYYY, YYYY-Hn, YYYY-Qn, YYYY-MM or YYYY-MM..YYYY-MM: the span the "
                "figure covers",
            ),
            Column(
                "role",
                allowed=("input", "target", "context", "observed"),
                description="input: sets up the run; target: fitted and scored; observed: scored "
                "out of sample, never fitted (rareflow validate); context: shown",
            ),
        ),
        unit_kinds=(
            Kind.MASS,
            Kind.MASS_RATE,
            Kind.PRICE,
            Kind.FRACTION,
            Kind.RATE,
            Kind.INDEX,
            Kind.COUNT,
            Kind.POWER,
        ),
    ),
    Table(
        "price_parameters",
        "The engine's price block: demand elasticity, adjustment per month, cap on the multiple.",
        key=("parameter",),
        columns=(
            Column(
                "parameter",
                allowed=("elasticity", "adjustment", "max_multiple"),
                description="elasticity of demand to the price multiple (negative); share of the "
                "gap to the clearing multiple closed per month; largest multiple",
            ),
        ),
        unit_kinds=(Kind.INDEX, Kind.FRACTION),
        allow_negative=True,
    ),
    Table(
        "inventories",
        "Stocks held in a country by holder and material, as weeks of cover or tonnes.",
        key=("country", "holder", "material", "metric", "year"),
        columns=(
            COUNTRY,
            Column("holder", allowed=("industry", "government")),
            MATERIAL,
            Column("metric", allowed=("cover", "stock", "planned_acquisition")),
        ),
        unit_kinds=(Kind.DURATION, Kind.MASS),
    ),
    Table(
        "control_parameters",
        "How an export control was applied: licence processing time, approvals.",
        key=("control_id", "destination", "parameter"),
        columns=(
            Column("control_id"),
            Column("destination", references="countries"),
            Column("parameter"),
        ),
        unit_kinds=(Kind.DURATION, Kind.COUNT, Kind.FRACTION, Kind.INDEX),
        reads=Reads(
            ("control_id", "parameter"),
            CONTROL_PARAMETER_READS,
            "the 2025 backtest's licence comparisons",
            where={"destination": "IND"},
            context="the table's other rows are context, shown by `rareflow data show` and cited "
            "in the docs, not model inputs: to change a licence delay a preset cites, set the "
            "control's licence in a scenario",
        ),
    ),
    Table(
        "policies",
        "Policy facts: budgets, capacities, caps and dates of missions, schemes and deals.",
        key=("policy", "parameter"),
        columns=(Column("policy"), COUNTRY, Column("parameter")),
        unit_kinds=(
            Kind.MONEY,
            Kind.PRICE,
            Kind.MASS,
            Kind.MASS_RATE,
            Kind.COUNT,
            Kind.DURATION,
            Kind.FRACTION,
            Kind.AREA,
        ),
        reads=Reads(
            ("policy", "parameter"),
            POLICY_READS,
            "the exploration pipeline's outlay costs",
            context="the table's other rows are context, shown by `rareflow data show` and cited "
            "in the docs, not model inputs: to change a figure a lever's defaults cite, set "
            "the lever's field in a scenario",
        ),
    ),
    Table(
        "in_use_history",
        "How the in-use stock model extends a sector's activity before its earliest cited year "
        "(a back-cast growth, or a cumulative figure it is calibrated to) and what share of it "
        "is exported rather than used in the country.",
        key=("country", "sector", "parameter", "year"),
        columns=(
            COUNTRY,
            SECTOR,
            Column(
                "parameter",
                allowed=IN_USE_PARAMETERS,
                description="backcast_growth (per year), cumulative_activity (in the activity's "
                "unit times a year), share_exported (fraction of activity)",
            ),
        ),
        unit_kinds=(Kind.RATE, Kind.FRACTION, Kind.POWER, Kind.COUNT),
    ),
    Table(
        "recycling",
        "Recycling chain: collection (formal, informal), pre-processing yield by sector; "
        "recovery, lead time and a reference plant's cost by route.",
        key=("country", "route", "sector", "parameter"),
        columns=(
            Column(
                "country",
                references="countries",
                description="ISO alpha-3 code, or WLD for a technology figure used everywhere",
            ),
            Column("route", allowed=RECYCLING_ROUTES, description="route, or 'any'"),
            Column("sector", allowed=(*_enum(Sector), "all"), description="sector, or 'all'"),
            Column("parameter", allowed=RECYCLING_PARAMETERS),
        ),
        unit_kinds=(Kind.FRACTION, Kind.DURATION, Kind.MONEY, Kind.MASS_RATE),
        reads=Reads(("parameter", "sector"), RECYCLING_READS, "the recycling lever's defaults"),
    ),
    Table(
        "secondary_resources",
        "Secondary sources of rare earths: e-waste volumes, fly ash and red mud (size, content, "
        "recovery).",
        key=("country", "resource", "metric", "year"),
        columns=(
            COUNTRY,
            Column("resource", allowed=("e_waste", "fly_ash", "red_mud")),
            Column(
                "metric",
                allowed=(
                    "generated",
                    "collected_formal",
                    "legacy_stock",
                    "ree_content",
                    "sc_content",
                    "recovery",
                ),
            ),
        ),
        unit_kinds=(Kind.MASS_RATE, Kind.MASS, Kind.FRACTION),
    ),
    Table(
        "lever_costs",
        "Costs of each policy lever: capital cost of a reference project and what it buys, "
        "operating and unit costs, programme outlays, premiums, holding costs. Each row is cited "
        "or a labelled assumption with a range, so no lever is free by default.",
        key=("lever", "parameter"),
        columns=(
            Column(
                "lever",
                allowed=(*LEVERS, "all"),
                description="lever type, or 'all' for what applies to every lever",
            ),
            Column(
                "parameter",
                allowed=LEVER_COST_PARAMETERS,
                description="discount_rate (lever 'all'), capex, reference_capacity, opex, "
                "unit_cost, programme_cost, premium, holding_cost, lead_time, "
                "separation_capex or royalty",
            ),
        ),
        reads=Reads(("lever", "parameter"), LEVER_COST_READS, "the levers' cost defaults"),
        unit_kinds=(
            Kind.MONEY,
            Kind.PRICE,
            Kind.CAPACITY_COST,
            Kind.MASS_RATE,
            Kind.FRACTION,
            Kind.RATE,
            Kind.DURATION,
        ),
    ),
    Table(
        "magnet_routes",
        "How each sector's magnet need arrives: bare magnets imported, magnets inside imported "
        "motors, sub-assemblies and modules, domestic magnets (shares of need).",
        key=("country", "sector", "route"),
        columns=(COUNTRY, SECTOR, Column("route", allowed=MAGNET_ROUTES)),
        units=("fraction",),
        shares=(ShareGroup(by=("country", "sector")),),
    ),
    Table(
        "magnet_grades",
        "Each sector's magnet need by grade class (Dy/Tb-bearing, light rare-earth NdFeB, bonded, "
        "SmCo), and each class's Dy and Tb content.",
        key=("country", "sector", "grade", "metric"),
        columns=(
            Column(
                "country",
                references="countries",
                description="ISO alpha-3 code, or WLD for a grade's content used everywhere",
            ),
            Column("sector", allowed=(*_enum(Sector), "all"), description="sector, or 'all'"),
            Column("grade", allowed=MAGNET_GRADES),
            Column("metric", allowed=GRADE_METRICS),
        ),
        units=("fraction",),
        shares=(
            ShareGroup(by=("country", "sector"), where={"metric": "share_of_need"}, tolerance=0.01),
        ),
    ),
    Table(
        "buyer_groups",
        "Buyer groups within each sector: share of the sector's need, route, stock cover and "
        "adaptation lag.",
        key=("country", "sector", "group", "metric"),
        columns=(
            COUNTRY,
            SECTOR,
            Column("group", description="e.g. large_multi_source, complete_motor_importers"),
            Column("route", allowed=MAGNET_ROUTES, description="the group's main route"),
            Column("metric", allowed=BUYER_METRICS),
        ),
        unit_kinds=(Kind.FRACTION, Kind.DURATION),
        shares=(
            ShareGroup(
                by=("country", "sector"), where={"metric": "share_of_sector"}, tolerance=0.01
            ),
        ),
    ),
    Table(
        "adaptation",
        "How industry and government adapt to a magnet shortage: each mechanism's lag, capacity, "
        "reach and cost.",
        key=("country", "mechanism", "sector", "parameter"),
        columns=(
            COUNTRY,
            Column("mechanism", allowed=ADAPTATION_MECHANISMS),
            Column("sector", allowed=(*_enum(Sector), "all"), description="sector, or 'all'"),
            Column("parameter", allowed=ADAPTATION_PARAMETERS),
        ),
        unit_kinds=(Kind.DURATION, Kind.MASS, Kind.FRACTION),
        reads=Reads(("mechanism", "parameter"), ADAPTATION_READS, "the adaptation levers"),
    ),
    Table(
        "exchange_rates",
        "Exchange rates used to report costs in both rupees and dollars.",
        key=("pair", "year"),
        columns=(Column("pair", allowed=("inr_per_usd",)),),
        units=("inr_per_usd",),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
ENTITY_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if not t.is_values)


def record_read(table: str, first: str, second: str, **where: str) -> None:
    """Record a key asked for of a table that declares its reads (:class:`Reads`).

    Raises
    ------
    KeyError
        If the key, or a ``where`` value, is not one the schema declares as read.
    """
    reads = TABLES_BY_NAME[table].reads
    if reads is None:
        return
    for column, value in where.items():
        if reads.where.get(column, value) != value:
            raise KeyError(f"{table}: only rows with {column} {reads.where[column]} are read")
    reads.read(first, second)
