"""The state the compile phases share: the network being built and what it was built from."""

from __future__ import annotations

from dataclasses import dataclass, field

from rareflow.model.network import FloatArray
from rareflow.scenario.context import CompileContext
from rareflow.scenario.schema import Scenario

#: Facility materials that feed each process's capacity.
PROCESS_MATERIALS = {
    "separation_ndpr": ("oxide_ndpr",),
    "metal_ndpr": ("metal_nd", "metal_ndpr"),
    "metal_dy": ("metal_dy",),
    "metal_tb": ("metal_tb",),
    "metal_sm": ("metal_sm",),
    "magnet_ndfeb_sintered": ("magnet_ndfeb_sintered",),
    "magnet_ndfeb_bonded": ("magnet_ndfeb_bonded",),
    "magnet_smco": ("magnet_smco",),
}


@dataclass
class Work:
    """A compilation in progress, handed from phase to phase.

    Parameters
    ----------
    scenario
        The scenario being compiled.
    ctx
        The network, chain, sampler, dataset and lever modifiers (what shocks and levers see).
    notes
        Where baseline figures came from.
    requirement0
        (S, K) the baseline's magnet requirement per step at the first step.
    cover_steps
        (D, K) stock targets in steps of use.
    proc_in
        (J, K) the baseline recipes' inputs per unit throughput, before levers change yields:
        separation's feed and the opening stocks are sized on them.
    controlling
        Exporters that control exports (their partners' room to add supply is zero).
    requirement_scale
        (D, S, K) scale of the requirement by ``uncertain:`` entries (None if none).
    warnings
        Inputs that cannot act within the horizon (e.g. a plant online after it ends).
    """

    scenario: Scenario
    ctx: CompileContext
    notes: list[str]
    requirement0: FloatArray
    cover_steps: FloatArray
    proc_in: FloatArray
    controlling: set[str] = field(default_factory=set)
    requirement_scale: FloatArray | None = None
    warnings: list[str] = field(default_factory=list)
