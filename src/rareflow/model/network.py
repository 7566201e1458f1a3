"""The numeric network the engine steps: arrays over draws, time, partners and commodities.

A :class:`Network` is the focal country's chain compiled for one scenario: the commodities that
flow (each on its own mass basis), the domestic processes that convert them, the partners that
supply them, and time schedules that shocks and levers write into. Arrays whose first axis is
``draw`` have length 1 there when they do not vary across the ensemble; the engine broadcasts.

Commodities are tracked on their own basis (t REO, t oxide, t metal, t magnet); processes convert
between bases with recipes derived from stoichiometry and composition, and their element balance
(t of element metal in = out + losses) is checked at every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
from numpy.typing import NDArray

from rareflow.dims import CONTROL, DRAW, ELEMENT, MATERIAL, PARTNER, PROCESS, SECTOR, TIME
from rareflow.ids import Element, Sector
from rareflow.model.state import axes, check_shapes, declared, draw_first, take_draws

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TRACKED_ELEMENTS: tuple[Element, ...] = (Element.Nd, Element.Pr, Element.Dy, Element.Tb, Element.Sm)
"""Elements whose mass the engine balances through the processes."""


@dataclass(frozen=True)
class Commodity:
    """A material the engine moves.

    Parameters
    ----------
    id
        Material id (materials.csv).
    form
        concentrate, oxide, metal or magnet: what export controls name.
    unit
        Its unit per step (t_reo, t_oxide, t_metal, t_magnet).
    """

    id: str
    form: str
    unit: str


COMMODITIES: tuple[Commodity, ...] = (
    Commodity("concentrate_mixed", "concentrate", "t_reo"),
    Commodity("oxide_ndpr", "oxide", "t_oxide"),
    Commodity("oxide_dy", "oxide", "t_oxide"),
    Commodity("oxide_tb", "oxide", "t_oxide"),
    Commodity("oxide_sm", "oxide", "t_oxide"),
    Commodity("metal_ndpr", "metal", "t_metal"),
    Commodity("metal_dy", "metal", "t_metal"),
    Commodity("metal_tb", "metal", "t_metal"),
    Commodity("metal_sm", "metal", "t_metal"),
    Commodity("magnet_ndfeb_sintered", "magnet", "t_magnet"),
    Commodity("magnet_ndfeb_bonded", "magnet", "t_magnet"),
    Commodity("magnet_smco", "magnet", "t_magnet"),
)
COMMODITY_IDS: tuple[str, ...] = tuple(c.id for c in COMMODITIES)
MAGNETS: tuple[str, ...] = tuple(c.id for c in COMMODITIES if c.form == "magnet")


@dataclass(frozen=True)
class Process:
    """A domestic conversion step, per unit of throughput.

    Parameters
    ----------
    id
        Process id.
    stage
        Chain stage it belongs to.
    inputs, outputs
        Commodity amounts consumed and made per unit of throughput.
    """

    id: str
    stage: str
    inputs: dict[str, float]
    outputs: dict[str, float]

    def throughput(self, t_output: float) -> float:
        """Units of throughput that make ``t_output`` of the process's (single) output.

        Separation's throughput is t REO of concentrate fed, of which about a fifth comes out as
        NdPr oxide; every other process counts throughput in its own output.
        """
        per_unit = next(iter(self.outputs.values()))
        return t_output / per_unit if per_unit > 0 else 0.0


@dataclass(frozen=True)
class Recycled:
    """One recycling lever's flows, part of ``local_supply``.

    Parameters
    ----------
    sectors
        Sectors whose end-of-life magnets it collects.
    processed
        (D or 1, T) t of magnet scrap fed to the recycler per step.
    recovered
        (D or 1, T, K) material recovered per step, each commodity on its own basis (t magnet
        for magnet-to-magnet, t oxide for hydrometallurgy).
    """

    sectors: tuple[Sector, ...]
    processed: FloatArray
    recovered: FloatArray
    online: FloatArray
    """(D or 1,) step of first output."""
    lead_months: FloatArray
    """(D or 1,) months from decision to first output, over which the plant is paid for."""
    capex_usd_per_t_per_year: FloatArray
    """(D or 1,) capital cost per t/yr of plant capacity."""


@dataclass
class Network:
    """The compiled network of one scenario for a set of draws.

    Each array declares its axes (names from :mod:`rareflow.dims`; see
    :mod:`rareflow.model.state`): ``draw`` (D, or 1 when the same for every draw), ``time`` (T
    steps), ``sector`` (S), ``material`` (K commodities), ``partner`` (P), ``process`` (J),
    ``control`` (C export controls), ``element`` (E tracked elements). The docstrings below give
    the same shapes in letters. Amounts are per step.
    """

    time: NDArray[np.datetime64] = field(metadata=axes(TIME))
    step_months: int
    draws: IntArray = field(metadata=axes(DRAW))
    sectors: tuple[Sector, ...]
    partners: tuple[str, ...]
    processes: tuple[Process, ...]
    content: FloatArray = field(metadata=axes(MATERIAL, ELEMENT))
    """(K, E) t of element metal per unit of each commodity."""
    requirement0: FloatArray = field(metadata=axes(SECTOR, MATERIAL))
    """(S, K) magnet requirement per step at the first step, before growth."""
    growth: FloatArray = field(metadata=axes(DRAW, SECTOR))
    """(D, S) growth of requirement per year."""
    demand_multiplier: FloatArray = field(metadata=axes(DRAW, TIME, SECTOR, MATERIAL))
    """(D, T, S, K) multiplier on requirement (substitution, thrift)."""
    stock0: FloatArray = field(metadata=axes(DRAW, MATERIAL))
    """(D, K) opening industry stock."""
    cover_steps: FloatArray = field(metadata=axes(DRAW, MATERIAL))
    """(D, K) stock target, in steps of use."""
    restock_steps: FloatArray = field(metadata=axes(DRAW))
    """(D,) steps over which a stock gap is closed."""
    proc_in: FloatArray = field(metadata=axes(PROCESS, MATERIAL))
    """(J, K) inputs per unit throughput."""
    proc_out: FloatArray = field(metadata=axes(PROCESS, MATERIAL))
    """(J, K) outputs per unit throughput."""
    proc_loss: FloatArray = field(metadata=axes(PROCESS, ELEMENT))
    """(J, E) element lost per unit throughput (t metal)."""
    capacity: FloatArray = field(metadata=axes(DRAW, TIME, PROCESS))
    """(D, T, J) throughput capacity per step."""
    share: FloatArray = field(metadata=axes(PARTNER, MATERIAL))
    """(P, K) baseline partner shares of the focal country's imports."""
    lead_steps: IntArray = field(metadata=axes(PARTNER))
    """(P,) steps from shipment to arrival."""
    surge: FloatArray = field(metadata=axes(DRAW, TIME, PARTNER))
    """(D, T, P) extra supply a partner can add for the focal country, as a share of its baseline
    volume: its headroom times the focal country's share of it against other importers
    (:mod:`rareflow.scenario.compile.importers`)."""
    licensed: FloatArray = field(metadata=axes(CONTROL, TIME, PARTNER, MATERIAL))
    """(C, T, P, K) 1 where a flow needs control C's licence when ordered at t, else 0."""
    licence_scale: FloatArray = field(metadata=axes(DRAW, CONTROL, PARTNER))
    """(D, C, P) share of a covered flow that needs the licence: 1 for the controlling exporter,
    the re-export rule's catch for other partners."""
    approval: FloatArray = field(metadata=axes(DRAW, CONTROL, TIME))
    """(D, C, T) probability that an application made at t is approved."""
    delay_steps: FloatArray = field(metadata=axes(DRAW, CONTROL, TIME))
    """(D, C, T) steps from application to decision (fractional: split over two steps)."""
    cut: FloatArray = field(metadata=axes(DRAW, TIME, PARTNER, MATERIAL))
    """(D, T, P, K) share of a partner's supply lost."""
    tier: IntArray = field(metadata=axes(SECTOR))
    """(S,) allocation tier of each sector (0 first)."""
    elastic: NDArray[np.bool_] = field(metadata=axes(SECTOR))
    """(S,) sectors whose demand answers the price: those in no priority tier."""
    proportional_only: bool
    elasticity: FloatArray = field(metadata=axes(DRAW))
    """(D,) price elasticity of requirement (negative)."""
    adjustment: FloatArray = field(metadata=axes(DRAW))
    """(D,) share of the gap to the clearing price closed per step."""
    max_multiple: float
    base_price: FloatArray = field(metadata=axes(MATERIAL))
    """(K,) baseline price, USD per kg (NaN where unknown)."""
    local_supply: FloatArray = field(metadata=axes(DRAW, TIME, MATERIAL))
    """(D, T, K) domestic supply entering the focal stock without a process: mine output that
    feeds separation, and secondary (recycled) material."""
    contract: FloatArray = field(metadata=axes(DRAW, TIME, PARTNER, MATERIAL))
    """(D, T, P, K) volumes partners ship under supply contracts, outside the baseline split."""
    stockpile0: FloatArray = field(metadata=axes(DRAW, MATERIAL))
    """(D, K) opening government stockpile."""
    stockpile_target: FloatArray = field(metadata=axes(DRAW, TIME, MATERIAL))
    """(D, T, K) stockpile level aimed at."""
    stockpile_fill: FloatArray = field(metadata=axes(DRAW, MATERIAL))
    """(D, K) most the stockpile buys per step (only while the market is whole)."""
    stockpile_release: FloatArray = field(metadata=axes(DRAW, MATERIAL))
    """(D, K) most the stockpile releases per step."""
    stockpile_trigger: FloatArray = field(metadata=axes(DRAW))
    """(D,) supply ratio below which the stockpile releases."""
    stockpile_sectors: NDArray[np.bool_] = field(metadata=axes(SECTOR))
    """(S,) sectors the stockpile's magnets are released to."""
    buffer_steps: FloatArray = field(metadata=axes(DRAW, MATERIAL))
    """(D, K) private buffers: the part of ``cover_steps`` that magnet users hold for their own
    production (released up to their requirement when the market rations them by price)."""
    contract_ledger: dict[str, tuple[int, int, FloatArray]] = field(default_factory=dict)
    """Each contract lever's own share of ``contract``: lever path -> (partner, commodity,
    (D or 1, T) volume per step), so a lever's cost counts its own deliveries only."""
    recycled_ledger: dict[str, Recycled] = field(default_factory=dict)
    """What each recycling lever processes and recovers: lever path -> :class:`Recycled`."""

    def active(self, start: date, end: date | None = None) -> NDArray[np.bool_]:
        """Return (T,) True for steps in [start, end).

        A step containing ``start`` counts, so a mid-month start is not lost.
        """
        days = self.time.astype("datetime64[D]")
        first = np.datetime64(start, "D")
        step_end = (self.time.astype("datetime64[M]") + self.step_months).astype("datetime64[D]")
        mask = (days >= first) | ((days < first) & (step_end > first))
        if end is not None:
            mask &= days < np.datetime64(end, "D")
        return mask

    def step_of(self, day: date) -> int:
        """Index of the step containing a day, clipped to the horizon."""
        days = self.time.astype("datetime64[D]")
        found = np.searchsorted(days, np.datetime64(day, "D"), "right") - 1
        return int(np.clip(found, 0, len(days) - 1))

    def take_draws(self, start: int, stop: int) -> Network:
        """Return the same network for draws ``start:stop`` (positions, not global indices)."""
        return take_draws(self, start, stop)

    def sizes(self) -> dict[str, int]:
        """Length of every dimension of the network's arrays."""
        return {
            DRAW: self.n_draws,
            TIME: self.n_steps,
            SECTOR: len(self.sectors),
            MATERIAL: len(COMMODITIES),
            PARTNER: len(self.partners),
            PROCESS: len(self.processes),
            CONTROL: int(self.licensed.shape[0]),
            ELEMENT: len(TRACKED_ELEMENTS),
        }

    def check_shapes(self) -> None:
        """Raise ``ValueError`` if an array's shape does not match its declared axes."""
        check_shapes(self, self.sizes())

    @property
    def n_draws(self) -> int:
        """Number of draws."""
        return int(self.draws.shape[0])

    @property
    def n_steps(self) -> int:
        """Number of steps."""
        return int(self.time.shape[0])

    @property
    def max_queue(self) -> int:
        """Length of the licence queue: the longest delay plus one step."""
        top = float(self.delay_steps.max()) if self.delay_steps.size else 0.0
        return int(np.ceil(top)) + 2

    @property
    def max_lead(self) -> int:
        """Length of the transit pipeline."""
        return int(self.lead_steps.max(initial=0)) + 1


NETWORK_AXES = declared(Network)
"""Declared axes of every array of :class:`Network`, by field name."""
DRAW_FIRST = draw_first(Network)
"""Fields whose first axis is ``draw`` (of length 1 when the same for every draw)."""
