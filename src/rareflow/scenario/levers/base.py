"""The lever protocol: what every lever declares and does.

A lever is one module with one class, a subclass of :class:`LeverBase` with a ``type`` tag. Defining
the class registers it (:data:`REGISTRY`); :mod:`rareflow.scenario.levers` imports every module of
the package, so a new lever needs no other file changed. The class declares:

- its **phase** in the compile pipeline (:class:`Phase`): ``MODIFIERS`` levers run first and only
  change what later levers read (a typed :class:`~rareflow.scenario.context.Modifiers`, never
  keys in the sampler); ``EFFECTS`` levers then run in scenario order;
- its **fields**, each number with its unit and bounds (``Annotated[Number, Spec(unit, low,
  high)]``) and its meaning in the class docstring's Parameters section;
  :meth:`LeverBase.field_specs` reads them back for forms, the optimiser and the documentation;
- its **random streams**: :meth:`LeverBase.draw` draws a field under its own path
  (``levers[2].t_per_year``), whose stream is keyed by the lever's type and its index among the
  scenario's levers of that type (``levers.stockpile[0].t_per_year``, :func:`stream_paths`), so
  adding, removing or reordering levers of other types leaves its draws alone; any other stream
  is declared in ``streams``;
- ``partners()``: partner countries it adds to the network;
- ``apply(ctx, path)``: write its effect into the network's schedules (capacity, contracts,
  stockpile, demand multipliers, local supply, lead times) or into the modifiers;
- ``cost(ctx, path)``: its cost lines, each an array (draw, step) in US dollars of the price year,
  computed from what its ``apply`` produced (:class:`~rareflow.scenario.context.Applied`: the
  cost inputs it drew, its schedules) and from the run's results where the cost depends on what
  happened (purchases, deliveries, output); it never draws again what ``apply`` drew;
- ``cost_defaults``: the cost fields that take their value from ``lever_costs.csv`` when the
  scenario leaves them empty (:class:`CostDefault`), so that no lever is free by default;
  :meth:`LeverBase.cost_input` resolves and draws them in ``apply`` and says which was used;
- optionally ``effect_model(...)``: its extra magnet supply per unit of level, linear, for the
  policy-mix optimiser (:class:`LinearEffect`).

Costs are reported in US$ and in ₹ crore at the dataset's exchange rate for the price year
(exchange_rates.csv), by year and in total; the sum over years equals the total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from enum import Enum, IntEnum
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

import numpy as np

from rareflow.errors import DataError, InputError, Problem, ScenarioError
from rareflow.model.network import COMMODITY_IDS, FloatArray, Network
from rareflow.scenario.common import Spec, StrictModel
from rareflow.scenario.context import Applied, CompileContext, Modifiers
from rareflow.scenario.distributions import Triangular
from rareflow.scenario.sampling import Sampler

if TYPE_CHECKING:
    import xarray as xr

    from rareflow.data.lever_costs import LeverCost
    from rareflow.data.load import Dataset

PRICE_YEAR = 2025
"""Year of the prices and exchange rate costs are stated in (USGS MCS 2026 prices for 2025)."""
INR_CRORE = 1e7
"""Rupees in a crore."""


@dataclass(frozen=True)
class CostLine:
    """One cost component of a lever: US$ per step for each draw.

    Parameters
    ----------
    component
        capex, opex, subsidy, purchase, holding, premium or another plain word.
    usd
        (D, T) US dollars of the price year; negative for revenue.
    """

    component: str
    usd: FloatArray


def inr_per_usd(dataset: Dataset) -> float:
    """Exchange rate of the price year (exchange_rates.csv).

    Raises
    ------
    rareflow.errors.DataError
        If the dataset has no exchange rate.
    """
    from rareflow.data.query import inr_per_usd as rate_of  # noqa: PLC0415 - pandas, used rarely

    rate = rate_of(dataset, PRICE_YEAR)
    if rate is None:
        problem = Problem("no exchange rate: lever costs need one", "exchange_rates.csv")
        raise DataError([problem])
    return rate


MONEY_UNITS: Mapping[str, float] = {"usd": 1.0, "usd_million": 1e6}
"""Lump-sum units in US dollars (``inr_crore`` converts at the price year's rate)."""
MASS_COST_UNITS: Mapping[str, float] = {"usd_per_kg": 1.0, "usd_per_t": 1e-3}
"""Costs per mass in US dollars per kg."""
SHARE_UNITS = ("fraction", "fraction_per_year")
"""Units of a share (a premium over the market, a holding cost a year)."""
CAPACITY_COST_UNITS = ("usd_per_t_reo_per_year", "usd_per_t_magnet_per_year")
"""Capital costs per t a year of capacity, each on its own mass basis (never converted)."""


def convert_cost(value: FloatArray, unit: str, to: str, rate: float) -> FloatArray:
    """Convert a cost from a ``lever_costs.csv`` unit to a lever field's unit.

    Lump sums between US$, US$ million and ₹ crore (at ``rate`` rupees per dollar); costs per
    mass between US$ per kg and per t; shares unchanged; a capital cost per t a year of capacity
    only to the same unit (a change of mass basis, REO to magnet, is not a unit conversion).

    Raises
    ------
    rareflow.errors.InputError
        If the units are not of the same kind.
    """
    money = {**MONEY_UNITS, "inr_crore": INR_CRORE / rate}
    if unit in money and to in money:
        return value * money[unit] / money[to]
    if unit in MASS_COST_UNITS and to in MASS_COST_UNITS:
        return value * MASS_COST_UNITS[unit] / MASS_COST_UNITS[to]
    if unit in SHARE_UNITS and to in SHARE_UNITS:
        return value
    if unit in CAPACITY_COST_UNITS and unit == to:
        return value
    raise InputError(f"lever_costs.csv: a figure in {unit} cannot stand for a field in {to}")


@dataclass(frozen=True)
class CostDefault:
    """Where a lever's cost field takes its value when the scenario leaves it empty.

    Parameters
    ----------
    parameter
        The ``lever_costs.csv`` parameter (``capex``, ``opex``, ``unit_cost``, ...).
    unit
        The field's unit: ``usd``, ``usd_million`` or ``inr_crore`` for a lump sum,
        ``usd_per_kg`` or ``usd_per_t`` for a cost per mass, ``fraction`` for a share,
        ``usd_per_t_reo_per_year`` or ``usd_per_t_magnet_per_year`` for a capital cost per t a
        year of capacity.
    scale_by
        A field of the lever whose size, over the row's ``reference_capacity``, scales the
        figure linearly (no economies of scale: an assumption); None: the figure as it is.
    lever
        The ``lever_costs.csv`` lever whose rows stand in (None: the lever's own type).
    """

    parameter: str
    unit: str
    scale_by: str | None = None
    lever: str | None = None


@dataclass(frozen=True)
class CostContext:
    """What a lever's cost model may read.

    ``applied`` holds what each lever's ``apply`` produced (:meth:`record`); the sampler is
    there for levers whose cost still draws a number ``apply`` did not need.
    """

    network: Network
    results: xr.Dataset
    dataset: Dataset
    sampler: Sampler
    modifiers: Modifiers
    applied: Mapping[str, Applied] = dataclass_field(default_factory=dict)

    def record(self, path: str) -> Applied:
        """Return what the lever at ``path`` produced in ``apply``.

        Raises
        ------
        rareflow.errors.ScenarioError
            If the lever was not applied (its cost cannot be computed without it).
        """
        found = self.applied.get(path)
        if found is None:
            raise ScenarioError(f"{path}: its apply produced nothing to cost (compile it first)")
        return found

    def usd_per_kg(self, material: str) -> float:
        """Return the dataset's latest USGS price of a material, or NaN if it has none."""
        return float(self.network.base_price[COMMODITY_IDS.index(material)])

    def inr_per_usd(self) -> float:
        """Exchange rate of the price year (exchange_rates.csv)."""
        return inr_per_usd(self.dataset)

    def per_draw(self, values: FloatArray) -> FloatArray:
        """Broadcast a (1,) or (D,) array of drawn values to (D, 1)."""
        d_n = self.network.n_draws
        return (
            np.broadcast_to(values.reshape(-1), (d_n,))[:, None]
            if values.size in (1, d_n)
            else values[:, None]
        )


class Phase(IntEnum):
    """When a lever is applied in the compile pipeline (lower first; scenario order within)."""

    MODIFIERS = 0
    """Changes only what later levers read (permit caps, by-product rules, cost of capital)."""
    EFFECTS = 1
    """Writes its effect into the network's schedules."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a lever as forms and documentation show it.

    Parameters
    ----------
    name
        Field name (its path in the lever).
    kind
        number (plain or a distribution), integer, boolean, date, text, choice, list, mapping
        or other.
    choices
        The values a choice (or a list of choices) may take.
    unit
        Unit of a number (None for a choice, a date or a list).
    low, high
        Bounds of a number (None otherwise).
    help
        Its meaning, from the class docstring.
    default
        Its default as plain data (None when required).
    required
        Whether a scenario must give it.
    """

    name: str
    kind: str
    choices: tuple[str, ...]
    unit: str | None
    low: float | None
    high: float | None
    help: str
    default: Any
    required: bool


def parameter_docs(doc: str) -> dict[str, str]:
    """Return the descriptions of a numpydoc Parameters section, by parameter name."""
    meanings: dict[str, str] = {}
    names: list[str] = []
    for line in doc.splitlines():
        text = line.strip()
        if line.startswith("        ") and names:
            for name in names:
                meanings[name] = f"{meanings.get(name, '')} {text}".strip()
        elif line.startswith("    ") and text and not set(text) <= {"-"}:
            names = [n.strip() for n in text.split(",")]
    return meanings


def _plain(value: Any) -> Any:
    """Return a default as plain data: distributions as their fields, enums as values."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value.isoformat() if isinstance(value, date) else value


@dataclass(frozen=True)
class LinearEffect:
    """A lever's extra magnet supply per unit of its level, for the policy-mix optimiser.

    Parameters
    ----------
    level_field
        The field whose value is the level (``t_per_year``, ``target_t``).
    supply
        (D, T) extra magnet supply per unit level per step (zeros for a stockpile, whose supply
        is its releases).
    release_rate
        Share of a stockpile's size it can release per step (0 for a flow).
    ready
        First step a stockpile can release (0 for a flow).
    """

    level_field: str
    supply: FloatArray
    release_rate: float = 0.0
    ready: int = 0


@dataclass(frozen=True)
class EffectProbe:
    """What a lever's effect model may read: the scenario run without it and with it at a level.

    Parameters
    ----------
    base, base_results
        The network and results of the scenario without the lever.
    network, results
        The same with the lever added at ``level``.
    start
        The scenario's start.
    level
        The lever's level in the probe run (its ``level_field``'s value).
    """

    base: Network
    base_results: xr.Dataset
    network: Network
    results: xr.Dataset
    start: date
    level: float


REGISTRY: dict[str, type[LeverBase]] = {}
"""Every lever class by its ``type`` tag, registered when its class is defined."""


class LeverBase(StrictModel):
    """Base of every lever: subclasses with a ``type`` tag register themselves."""

    phase: ClassVar[Phase] = Phase.EFFECTS
    cost_defaults: ClassVar[Mapping[str, CostDefault]] = {}
    """Cost fields that take their value from ``lever_costs.csv`` when the scenario leaves them
    empty (None), by field name."""
    streams: ClassVar[tuple[str, ...]] = ()
    """Random streams the lever draws that are not its fields (a uniform it maps itself, a
    dataset default), each under ``<path>.<stream>``; every other stream is a field's own path."""
    rules: ClassVar[tuple[str, ...]] = ()
    """How the lever acts over time where that is a rule (a stock's release and refill), in
    plain words, as ``rareflow lever show`` states them."""
    name: str = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Register a lever class under its ``type`` tag."""
        super().__pydantic_init_subclass__(**kwargs)
        tag = cls.model_fields.get("type")
        if tag is None or tag.is_required():  # a shared base without a tag of its own
            return
        known = REGISTRY.get(str(tag.default))
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"lever type '{tag.default}' is defined twice")
        REGISTRY[str(tag.default)] = cls

    @classmethod
    def type_tag(cls) -> str:
        """Return the lever's ``type`` tag."""
        return str(cls.model_fields["type"].default)

    @classmethod
    def field_specs(cls) -> tuple[FieldSpec, ...]:
        """Every field but the tag: type, unit and bounds (numbers), meaning and default."""
        meanings = parameter_docs(cls.__doc__ or "")
        out = []
        for name, info in cls.model_fields.items():
            if name == "type":
                continue
            spec = next((m for m in info.metadata if isinstance(m, Spec)), None)
            required = info.is_required()
            kind, choices = _kind(info.annotation)
            out.append(
                FieldSpec(
                    name=name,
                    kind=kind,
                    choices=choices,
                    unit=spec.unit if spec is not None else None,
                    low=spec.low if spec is not None and math.isfinite(spec.low) else None,
                    high=spec.high if spec is not None and math.isfinite(spec.high) else None,
                    help=meanings.get(
                        name, "the lever's label in results" if name == "name" else ""
                    ),
                    default=None
                    if required
                    else _plain(info.get_default(call_default_factory=True)),
                    required=required,
                )
            )
        return tuple(out)

    def draw(self, sampler: Sampler, path: str, field: str) -> FloatArray:
        """Draw a field's values for the network's draws, on the stream of its path."""
        return sampler.draw(getattr(self, field), f"{path}.{field}")

    def partners(self) -> tuple[str, ...]:
        """Partners this lever adds (none by default)."""
        return ()

    def cost_fields(self) -> tuple[str, ...]:
        """Return the cost fields compile resolves before ``apply`` (:meth:`cost_input`).

        Every field of :attr:`cost_defaults` unless a lever's settings make one unused (a fixed
        royalty in place of a share, no separation built).
        """
        return tuple(self.cost_defaults)

    def cost_default(self, name: str) -> CostDefault:
        """Return where a cost field's default comes from (:attr:`cost_defaults`).

        A lever may choose by its settings, e.g. a magnet plant's capex rather than a metal
        plant's.
        """
        return self.cost_defaults[name]

    def default_cost_rows(self, dataset: Dataset, name: str) -> tuple[LeverCost, LeverCost | None]:
        """Return the ``lever_costs.csv`` row a cost field defaults to, and its reference size."""
        from rareflow.data.lever_costs import lever_cost  # noqa: PLC0415 - pandas, at compile

        spec = self.cost_default(name)
        lever = spec.lever or self.type_tag()
        row = lever_cost(dataset, lever, spec.parameter)
        ref = lever_cost(dataset, lever, "reference_capacity") if spec.scale_by else None
        return row, ref

    def cost_input(self, ctx: CompileContext, path: str, name: str) -> FloatArray:
        """Resolve, draw and record a cost input (in ``apply``); return its values.

        The scenario's value if it gives one; else the ``lever_costs.csv`` row of
        :meth:`cost_default`, drawn triangular over its range (mode: its value) on the field's
        own stream, converted to the field's unit and scaled by the lever's size. The record's
        ``basis`` says which was used, with the row's source.
        """
        record = ctx.record(path)
        if name in record.inputs:
            return record.inputs[name]
        unit = self.cost_defaults[name].unit if name in self.cost_defaults else ""
        if getattr(self, name) is not None:
            values = self.draw(ctx.sampler, path, name)
            record.basis.append(f"{name} {_typical(values):,.4g} {unit} (scenario)".strip())
        else:
            spec = self.cost_default(name)
            row, ref = self.default_cost_rows(ctx.dataset, name)
            number: Any = (
                Triangular(low=row.low, mode=row.value, high=row.high)
                if row.low < row.high
                else row.value
            )
            values = convert_cost(
                ctx.sampler.draw(number, f"{path}.{name}"),
                row.unit,
                spec.unit,
                inr_per_usd(ctx.dataset),
            )
            what = f"{row.lever} {row.parameter} {row.value:,.4g} {row.unit}"
            if row.low < row.high:
                what += f" [{row.low:,.4g}..{row.high:,.4g}]"
            if ref is not None and spec.scale_by is not None:
                size = self.draw(ctx.sampler, path, spec.scale_by)
                values = values * size / ref.value
                what += f" for {ref.value:,.4g} {ref.unit}, scaled by {spec.scale_by}"
            label = "ASSUMPTION" if row.assumption else "cited"
            record.basis.append(
                f"{name} {_typical(values):,.4g} {spec.unit} from lever_costs.csv ({what}; "
                f"{row.source_id}, {label})"
            )
        record.inputs[name] = values
        return values

    def effect_model(self, probe: EffectProbe) -> LinearEffect | None:
        """Return its extra magnet supply per unit of level (None: the optimiser cannot take it)."""
        del probe
        return None

    def apply(self, ctx: CompileContext, path: str) -> None:
        """Write the lever's effect into the network."""
        raise NotImplementedError  # pragma: no cover - every lever overrides

    def cost(self, ctx: CostContext, path: str) -> list[CostLine]:
        """Cost lines of the lever (none by default)."""
        del ctx, path
        return []


def _typical(values: FloatArray) -> float:
    """Median of drawn values (a fixed value is its own median)."""
    return float(np.median(values))


_SIMPLE = {float: "number", int: "integer", bool: "boolean", date: "date", str: "text"}


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    """Kind of a field's type for a form, and the choices of a choice."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _kind(args[0])
    if origin is Literal:
        return "choice", tuple(str(a) for a in args)
    if origin in (Union, UnionType):
        options = [a for a in args if a is not type(None)]
        if float in options:
            return "number", ()  # a plain number or a distribution
        if len(options) == 1:
            return _kind(options[0])
        kinds = [_kind(a) for a in options]
        return " or ".join(k for k, _ in kinds), tuple(c for _, cs in kinds for c in cs)
    if origin is list:
        inner, choices = _kind(args[0])
        return ("list", choices) if inner == "choice" else ("list", ())
    if origin is dict:
        return "mapping", _kind(args[0])[1]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "choice", tuple(str(m.value) for m in annotation)
    return _SIMPLE.get(annotation, "other"), ()


def stream_paths(levers: Sequence[LeverBase]) -> dict[str, str]:
    """Return the name each lever's random streams are keyed by, by the lever's path.

    ``levers[i]`` (its position, the path in messages) -> ``levers.<type>[k]``, ``k`` counting
    the levers of that type in scenario order: a lever's draws depend on its type and on the
    levers of its own type before it, never on its position among levers of other types.
    """
    seen: dict[str, int] = {}
    out = {}
    for i, lever in enumerate(levers):
        tag = lever.type_tag()
        out[f"levers[{i}]"] = f"levers.{tag}[{seen.get(tag, 0)}]"
        seen[tag] = seen.get(tag, 0) + 1
    return out
