"""Stress test of a supply network: time-to-survive (TTS) and performance impact (PI) per node.

Method of Simchi-Levi, Schmidt, Wei, Zhang, Combs, Ge, Gusikhin, Sanders and Zhang (2015),
'Identifying risks and mitigating disruptions in the automotive supply chain', *Interfaces*
45(5):375-390 (the TTR/TTS models of the section 'Modeling the Risk Exposure' and its
appendix). Each node of the network (a product made at a site) is disrupted in turn:

- **time-to-survive** TTS_n: the longest time the network can keep meeting all demand while node n
  makes nothing, using inventory and rerouting to alternative suppliers;
- **performance impact** PI_n: the least value of lost demand when node n is down for its
  time-to-recover TTR_n;
- a node is **exposed** when TTR_n > TTS_n: the chain runs out before the node is back.

Single-period model (the paper's formulation; ``t`` is the length of the disruption, in periods):

=====================================  =================================================
variables                              ``u_j`` production of node j over ``t``;
                                       ``y_ij`` units of i's product shipped to j;
                                       ``l_j`` lost demand of end product j
capacity                               ``u_j <= capacity_j * t``
bill of materials (each part of j)     ``per_unit * u_j <= sum_{i in suppliers} y_ij``
what node i ships                      ``sum_j y_ij <= u_i + inventory_i``
demand (end products)                  ``l_j + u_j + inventory_j >= demand_j * t``
disruption of node n                   ``u_n = 0``
=====================================  =================================================

TTS maximises ``t`` with ``l = 0``; PI minimises ``sum_j margin_j * l_j`` with ``t = TTR_n``.

Reading of the paper, stated here because the results depend on it: the disruption removes the
node's *capacity* (the paper sets the capacity of the disrupted node to zero), not the stock
already made, so the disrupted node's inventory can still be shipped (or sold, for an end
product). When the disrupted node feeds nothing that is needed (or all demand is zero) the TTS
program is unbounded: TTS is then infinite (``math.inf`` in Python, ``null`` in JSON output).

The multi-period version (:func:`multi_period_stress_test`) carries inventories between periods
1..T, lets a stockpile release units of a node's product, and weights lost demand by sector
priority; it reports TTS in whole periods, PI per end product and sector, and the exposure map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

import highspy
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rareflow.errors import SolverError
from rareflow.indicators._inputs import load_json_model
from rareflow.solver import new_highs

Var = Any
"""A HiGHS variable, linear expression or constant (highspy's operators are only partly typed)."""

_EPS = 1e-9
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class NodeSpec(BaseModel):
    """A node: one product made at one site."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    capacity: NonNegative = Field(description="Units the node can make per period.")
    inventory: NonNegative = Field(default=0.0, description="Units of its product on hand.")
    demand: NonNegative | None = Field(
        default=None, description="Units demanded per period (end products only)."
    )
    margin: NonNegative | None = Field(
        default=None, description="Value lost per unit of unmet demand (end products only)."
    )
    sector: str | None = Field(
        default=None, description="End-use sector (multi-period version: priority weights)."
    )

    @model_validator(mode="after")
    def _end_product_has_margin(self) -> Self:
        if self.demand is not None and self.margin is None:
            raise ValueError(f"node '{self.id}' has a demand, so it needs a margin (value/unit)")
        return self

    @property
    def is_end_product(self) -> bool:
        """Whether the node faces final demand."""
        return self.demand is not None


class PartSpec(BaseModel):
    """A part of node ``node``: ``per_unit`` units per unit made, from any of ``suppliers``."""

    model_config = ConfigDict(extra="forbid")

    node: str
    part: str
    per_unit: float = Field(gt=0, allow_inf_nan=False)
    suppliers: list[str] = Field(min_length=1)


class Network(BaseModel):
    """A supply network and the recovery time of each node to stress (single-period file)."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, description="What the network is, its source.")
    nodes: list[NodeSpec] = Field(min_length=1)
    parts: list[PartSpec] = Field(default_factory=list)
    recovery: dict[str, NonNegative] = Field(
        description="Time-to-recover (periods) of each node to disrupt."
    )

    @model_validator(mode="after")
    def _references_exist(self) -> Self:
        ids = [n.id for n in self.nodes]
        seen: set[str] = set()
        for i, node_id in enumerate(ids):
            if node_id in seen:
                raise ValueError(f"nodes[{i}]: id '{node_id}' is used twice")
            seen.add(node_id)
        pairs: set[tuple[str, str]] = set()
        for i, p in enumerate(self.parts):
            where = f"parts[{i}] (node '{p.node}', part '{p.part}')"
            if p.node not in seen:
                raise ValueError(f"{where}: node '{p.node}' is not an id in nodes")
            for s in p.suppliers:
                if s not in seen:
                    raise ValueError(f"{where}: supplier '{s}' is not an id in nodes")
                if s == p.node:
                    raise ValueError(f"{where}: a node cannot supply itself")
            if (p.node, p.part) in pairs:
                raise ValueError(f"{where}: this part is listed twice for the node")
            pairs.add((p.node, p.part))
        for key in self.recovery:
            if key not in seen:
                raise ValueError(f"recovery: '{key}' is not an id in nodes")
        return self

    def node(self, node_id: str) -> NodeSpec:
        """Return the node with this id."""
        return next(n for n in self.nodes if n.id == node_id)


class StockpileSpec(BaseModel):
    """A stockpile of one node's product that can be released during a disruption."""

    model_config = ConfigDict(extra="forbid")

    units: NonNegative
    max_release_per_period: NonNegative | None = None


class MultiPeriodNetwork(Network):
    """A network for the multi-period stress test (periods 1..``horizon``)."""

    horizon: int = Field(ge=1, le=1000)
    stockpile: dict[str, StockpileSpec] = Field(default_factory=dict)
    sector_weights: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=dict,
        description="Priority weight of each sector's lost value (missing sector: weight 1).",
    )

    @model_validator(mode="after")
    def _stockpiles_exist(self) -> Self:
        ids = {n.id for n in self.nodes}
        for key in self.stockpile:
            if key not in ids:
                raise ValueError(f"stockpile: '{key}' is not an id in nodes")
        return self


def load_network(path: Path) -> Network:
    """Read and validate a single-period network file (raises ``InputError`` on bad input)."""
    return load_json_model(Network, path)


def load_multi_period_network(path: Path) -> MultiPeriodNetwork:
    """Read and validate a multi-period network file (raises ``InputError`` on bad input)."""
    return load_json_model(MultiPeriodNetwork, path)


def _status(h: Any) -> str:
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if status in (
        highspy.HighsModelStatus.kUnbounded,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return "unbounded"
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(status)}")


@dataclass(frozen=True)
class _SinglePeriodSolution:
    status: str
    t: float
    lost: dict[str, float]
    value_lost: float


def _solve_single_period(
    network: Network, disrupted: str, duration: float | None
) -> _SinglePeriodSolution:
    """Build and solve the paper's single-period LP.

    ``duration=None`` gives the TTS program (maximise ``t``, no lost demand); a number gives the
    PI program with ``t`` fixed to it.
    """
    h = new_highs()
    t: Var = h.addVariable(lb=0.0, name="t") if duration is None else duration
    u = {
        n.id: h.addVariable(lb=0.0, ub=0.0 if n.id == disrupted else math.inf, name=f"u[{n.id}]")
        for n in network.nodes
    }
    y: dict[tuple[str, str, str], Var] = {
        (s, p.node, p.part): h.addVariable(lb=0.0, name=f"y[{s},{p.node},{p.part}]")
        for p in network.parts
        for s in p.suppliers
    }
    lost = (
        {n.id: h.addVariable(lb=0.0, name=f"l[{n.id}]") for n in network.nodes if n.is_end_product}
        if duration is not None
        else {}
    )
    for n in network.nodes:
        if n.id != disrupted:
            h.addConstr(u[n.id] - n.capacity * t <= 0)
    for p in network.parts:
        h.addConstr(p.per_unit * u[p.node] - sum(y[s, p.node, p.part] for s in p.suppliers) <= 0)
    for n in network.nodes:
        shipped = [v for (s, _, _), v in y.items() if s == n.id]
        if shipped:
            h.addConstr(sum(shipped) - u[n.id] <= n.inventory)
    for n in network.nodes:
        if n.demand is not None:
            supplied = u[n.id] + lost[n.id] if lost else u[n.id]
            h.addConstr(supplied - n.demand * t >= -n.inventory)
    if duration is None:
        h.maximize(t)
    elif lost:
        margins = {n.id: n.margin or 0.0 for n in network.nodes}
        h.minimize(sum(margins[j] * v for j, v in lost.items()))
    else:  # no end product: nothing can be lost, any feasible plan will do
        h.minimize()
    status = _status(h)
    if status == "unbounded":
        return _SinglePeriodSolution(status, math.inf, {}, 0.0)
    if status != "optimal":
        raise SolverError(f"the stress-test LP for node '{disrupted}' is {status}")
    lost_units = {j: max(float(h.val(v)), 0.0) for j, v in lost.items()}
    value = sum((network.node(j).margin or 0.0) * q for j, q in lost_units.items())
    return _SinglePeriodSolution(
        status,
        float(h.val(t)) if duration is None else duration,
        lost_units,
        value,
    )


def time_to_survive(network: Network, node: str) -> float:
    """Return the time-to-survive of ``node``: how long all demand is met while it is down.

    Simchi-Levi et al. (2015), TTS model: maximise ``t`` subject to the single-period constraints
    (module docstring) with zero lost demand and zero production at ``node``.

    Parameters
    ----------
    network
        The network.
    node
        Id of the disrupted node.

    Returns
    -------
    float
        TTS in periods; ``math.inf`` when the network never runs short.
    """
    return _solve_single_period(network, node, None).t


def performance_impact(
    network: Network, node: str, ttr: float | None = None
) -> tuple[float, dict[str, float]]:
    """Return the performance impact of ``node`` and the lost demand behind it.

    Simchi-Levi et al. (2015), TTR model: minimise ``sum_j margin_j * l_j`` subject to the
    single-period constraints with ``t = TTR`` and zero production at ``node``.

    Parameters
    ----------
    network
        The network.
    node
        Id of the disrupted node.
    ttr
        Time-to-recover (periods); defaults to ``network.recovery[node]``.

    Returns
    -------
    tuple of float and dict
        The value of lost demand and the lost units of each end product.
    """
    duration = network.recovery[node] if ttr is None else ttr
    sol = _solve_single_period(network, node, duration)
    return sol.value_lost, sol.lost


@dataclass(frozen=True)
class NodeStress:
    """Stress-test result of one node (single-period model).

    Attributes
    ----------
    node
        Disrupted node.
    ttr
        Time-to-recover (periods), an input.
    tts
        Time-to-survive (periods); ``math.inf`` when the network never runs short.
    performance_impact
        Least value of lost demand over ``ttr``.
    exposed
        Whether TTR > TTS.
    lost_demand
        Units of each end product lost in the PI solution (only those with a loss).
    """

    node: str
    ttr: float
    tts: float
    performance_impact: float
    exposed: bool
    lost_demand: dict[str, float]

    def as_row(self) -> dict[str, Any]:
        """Return the result as an output row (infinite TTS becomes ``None``, JSON ``null``)."""
        return {
            "node": self.node,
            "tts": self.tts if math.isfinite(self.tts) else None,
            "ttr": self.ttr,
            "performance_impact": self.performance_impact,
            "exposed": self.exposed,
            "lost_demand": self.lost_demand,
        }


def stress_test(network: Network) -> list[NodeStress]:
    """Disrupt each node listed in ``network.recovery`` in turn and report TTS, PI and exposure.

    Parameters
    ----------
    network
        The network, with the time-to-recover of each node to stress.

    Returns
    -------
    list of NodeStress
        One result per node of ``network.recovery``, in its order.
    """
    results = []
    for node, ttr in network.recovery.items():
        tts = time_to_survive(network, node)
        value, lost = performance_impact(network, node, ttr)
        results.append(
            NodeStress(
                node=node,
                ttr=ttr,
                tts=tts,
                performance_impact=value,
                exposed=ttr > tts + _EPS,
                lost_demand={j: q for j, q in lost.items() if q > _EPS},
            )
        )
    return results


@dataclass(frozen=True)
class NodeStressMultiPeriod:
    """Multi-period stress-test result of one node.

    Attributes
    ----------
    node
        Disrupted node.
    ttr
        Time-to-recover (periods); the node makes nothing in periods 1..ceil(ttr).
    tts
        Number of whole periods with no lost demand while the node stays down.
    tts_censored
        True when no demand is lost within the horizon: TTS is at least ``tts``. Such a node
        is not marked exposed; lengthen the horizon beyond its TTR to decide.
    performance_impact
        Value of lost demand (sum of margin x units) in the least-weighted-loss plan.
    weighted_impact
        The objective: lost value weighted by sector priority.
    exposed
        Whether TTR > TTS.
    lost_by_product
        Units lost per end product over the horizon.
    lost_by_sector
        Value lost per sector over the horizon.
    """

    node: str
    ttr: float
    tts: int
    tts_censored: bool
    performance_impact: float
    weighted_impact: float
    exposed: bool
    lost_by_product: dict[str, float]
    lost_by_sector: dict[str, float]

    def as_row(self) -> dict[str, Any]:
        """Return the result as an output row."""
        return {
            "node": self.node,
            "tts": self.tts,
            "tts_censored": self.tts_censored,
            "ttr": self.ttr,
            "performance_impact": self.performance_impact,
            "weighted_impact": self.weighted_impact,
            "exposed": self.exposed,
            "lost_by_product": self.lost_by_product,
            "lost_by_sector": self.lost_by_sector,
        }


@dataclass(frozen=True)
class MultiPeriodStress:
    """Multi-period stress test of a network: results per node and the exposure map."""

    nodes: list[NodeStressMultiPeriod]

    @property
    def exposure_map(self) -> list[str]:
        """Nodes whose time-to-recover exceeds their time-to-survive."""
        return [r.node for r in self.nodes if r.exposed]


@dataclass(frozen=True)
class _MultiPeriodSolution:
    status: str
    lost: dict[tuple[str, int], float]


def _solve_multi_period(
    network: MultiPeriodNetwork,
    disrupted: str,
    down_periods: int,
    no_loss_through: int,
) -> _MultiPeriodSolution:
    """Solve the multi-period LP.

    The node makes nothing in periods 1..``down_periods``; no demand may be lost in periods
    1..``no_loss_through``. The objective is the priority-weighted lost value.

    Per period tau, for each node i (finished-goods balance, stock ``s`` carried over):
    ``s_i,tau = s_i,tau-1 + u_i,tau + r_i,tau - sum_j y_ij,tau - (demand_i - l_i,tau)``
    where ``r`` is a stockpile release and the last term applies to end products only. Parts are
    used in the period they arrive (stock of a part is held as its supplier's finished goods).
    """
    h = new_highs()
    periods = range(1, network.horizon + 1)
    u = {
        (n.id, tau): h.addVariable(
            lb=0.0,
            ub=0.0 if (n.id == disrupted and tau <= down_periods) else n.capacity,
        )
        for n in network.nodes
        for tau in periods
    }
    y = {
        (s, p.node, p.part, tau): h.addVariable(lb=0.0)
        for p in network.parts
        for s in p.suppliers
        for tau in periods
    }
    stock = {(n.id, tau): h.addVariable(lb=0.0) for n in network.nodes for tau in periods}
    lost = {
        (n.id, tau): h.addVariable(lb=0.0, ub=0.0 if tau <= no_loss_through else n.demand)
        for n in network.nodes
        if n.demand is not None
        for tau in periods
    }
    release = {
        (node_id, tau): h.addVariable(lb=0.0, ub=spec.max_release_per_period or math.inf)
        for node_id, spec in network.stockpile.items()
        for tau in periods
    }
    for node_id, spec in network.stockpile.items():
        h.addConstr(sum(release[node_id, tau] for tau in periods) <= spec.units)
    for p in network.parts:
        for tau in periods:
            h.addConstr(
                p.per_unit * u[p.node, tau] - sum(y[s, p.node, p.part, tau] for s in p.suppliers)
                <= 0
            )
    for n in network.nodes:
        for tau in periods:
            inflow = u[n.id, tau] + release.get((n.id, tau), 0.0)
            previous = stock[n.id, tau - 1] if tau > 1 else n.inventory
            shipped = [v for (s, _, _, k), v in y.items() if s == n.id and k == tau]
            outflow = stock[n.id, tau] + sum(shipped)
            if n.demand is not None:
                outflow = outflow + n.demand - lost[n.id, tau]
            h.addConstr(outflow - inflow - previous == 0)
    weights = {
        n.id: (n.margin or 0.0) * network.sector_weights.get(n.sector or "", 1.0)
        for n in network.nodes
    }
    if lost:
        h.minimize(sum(weights[j] * v for (j, _), v in lost.items()))
    else:  # no end product: nothing can be lost, any feasible plan will do
        h.minimize()
    status = _status(h)
    if status != "optimal":
        return _MultiPeriodSolution(status, {})
    return _MultiPeriodSolution(status, {k: max(float(h.val(v)), 0.0) for k, v in lost.items()})


def multi_period_stress_test(network: MultiPeriodNetwork) -> MultiPeriodStress:
    """Multi-period stress test: TTS, PI per product and sector, and the exposure map.

    Extends the single-period model of Simchi-Levi et al. (2015) to periods 1..T with inventory
    carried between periods, stockpile releases and sector priority weights (module docstring).

    - TTS: the largest k in 0..T such that no demand is lost in periods 1..k while the node is
      down for the whole horizon (found by bisection: if k periods can be covered, so can k-1).
    - PI: the least priority-weighted lost value with the node down for ceil(TTR) periods
      (capped at T); reported both unweighted (``performance_impact``) and weighted.

    Parameters
    ----------
    network
        The network, its horizon, stockpiles and sector weights.

    Returns
    -------
    MultiPeriodStress
        One result per node of ``network.recovery`` and the exposure map.
    """
    horizon = network.horizon
    results = []
    for node, ttr in network.recovery.items():
        lo, hi = 0, horizon
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _solve_multi_period(network, node, horizon, mid).status == "optimal":
                lo = mid
            else:
                hi = mid - 1
        tts = lo
        sol = _solve_multi_period(network, node, min(math.ceil(ttr), horizon), 0)
        if sol.status != "optimal":
            raise SolverError(f"the multi-period LP for node '{node}' is {sol.status}")
        by_product: dict[str, float] = {}
        by_sector: dict[str, float] = {}
        value = weighted = 0.0
        for (j, _), q in sol.lost.items():
            spec = network.node(j)
            margin = spec.margin or 0.0
            by_product[j] = by_product.get(j, 0.0) + q
            sector = spec.sector or "unassigned"
            by_sector[sector] = by_sector.get(sector, 0.0) + margin * q
            value += margin * q
            weighted += margin * q * network.sector_weights.get(spec.sector or "", 1.0)
        results.append(
            NodeStressMultiPeriod(
                node=node,
                ttr=ttr,
                tts=tts,
                tts_censored=tts == horizon,
                performance_impact=value,
                weighted_impact=weighted,
                exposed=tts < horizon and ttr > tts + _EPS,
                lost_by_product={j: q for j, q in by_product.items() if q > _EPS},
                lost_by_sector={s: v for s, v in by_sector.items() if v > _EPS},
            )
        )
    return MultiPeriodStress(results)
