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
  computed from the run's results where the cost depends on what happened (purchases, deliveries,
  output);
- optionally ``effect_model(...)``: its extra magnet supply per unit of level, linear, for the
  policy-mix optimiser (:class:`LinearEffect`).

Costs are reported in US$ and in ₹ crore at the dataset's exchange rate for the price year
(exchange_rates.csv), by year and in total; the sum over years equals the total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum, IntEnum
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

import numpy as np

from rareflow.errors import DataError, Problem
from rareflow.model.network import COMMODITY_IDS, FloatArray, Network
from rareflow.scenario.common import Spec, StrictModel
from rareflow.scenario.context import CompileContext, Modifiers
from rareflow.scenario.sampling import Sampler

if TYPE_CHECKING:
    import xarray as xr

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


@dataclass(frozen=True)
class CostContext:
    """What a lever's cost model may read."""

    network: Network
    results: xr.Dataset
    dataset: Dataset
    sampler: Sampler
    modifiers: Modifiers

    def usd_per_kg(self, material: str) -> float:
        """Return the dataset's latest USGS price of a material, or NaN if it has none."""
        return float(self.network.base_price[COMMODITY_IDS.index(material)])

    def inr_per_usd(self) -> float:
        """Exchange rate of the price year (exchange_rates.csv)."""
        from rareflow.data.query import inr_per_usd  # noqa: PLC0415 - pandas, used rarely

        rate = inr_per_usd(self.dataset, PRICE_YEAR)
        if rate is None:
            problem = Problem("no exchange rate: lever costs need one", "exchange_rates.csv")
            raise DataError([problem])
        return rate

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
        if tag is None:
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
