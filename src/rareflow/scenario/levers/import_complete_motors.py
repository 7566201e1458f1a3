"""Complete motors: buyers import motors and sub-assemblies instead of bare magnets.

China's April 2025 rules applied to magnets, not to the finished products holding them; makers
planned imports of complete motors in early June 2025 to avert shutdowns by the end of June
(bs-2025-06-05-workaround), e-2W makers sent sub-assemblies to China to be fitted with magnets
(bs-2025-09-16-localisation), and SIAM asked for relief from the 15% duty on imported assemblies
(mc-2025-07-07-siam-duty). The October 2025 0.1% content rule would have reached such imports
(export_controls.csv), so the lever helps against a control on bare magnets and materials, not
against a content rule.

The lever raises the chosen buyer groups' ``embedded_share`` (the share of their need arriving
inside imported components, :mod:`rareflow.scenario.compile.segments`): from ``start`` +
``lag_months`` (ramping over ``ramp_months``) a share ``max_share`` of their bare-magnet need
moves to the component route. The groups then order components for it (building their own
component stock) and the national pool orders that much less bare magnet. Its cost is the
customs duty on the assemblies, as a share of the value of the magnets inside them: 15% duty on
an assembly whose magnets are about 30% of its cost is 50% of the magnets' value
(lever_costs.csv). Subsidies forgone under localisation rules (PM E-DRIVE's Rs 5,000 per e-2W,
bs-2025-09-16-localisation) are transfers, not counted.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from rareflow.model.network import FloatArray
from rareflow.scenario.levers.segment_shift import SegmentShift

MECHANISM = "import_complete_motors"
"""Its rows in adaptation.csv."""


class ImportCompleteMotors(SegmentShift):
    """Buyer groups import complete motors and sub-assemblies instead of bare magnets.

    Parameters
    ----------
    sectors
        Sectors whose buyer groups switch.
    groups
        Buyer groups that switch (``small_single_importer`` or
        ``two_wheeler/small_single_importer``, as ``rareflow exposure`` lists them); empty:
        every group of the sectors.
    start
        Day the switch is decided; the lag counts from it.
    lag_months
        Months from the decision to imported motors arriving. Default: adaptation.csv (2, 1-3
        months, bs-2025-06-05-workaround).
    max_share
        Largest share of the groups' bare-magnet need that can move to imported assemblies.
        Default: adaptation.csv (1, 0.5-1: the April rules reached magnets, not finished
        products).
    ramp_months
        Months from the first imported motors to the full share (0: at once).
    premium
        Customs duty on the assemblies as a share of the value of the magnets inside them.
        Default: lever_costs.csv (15% duty over a magnet share of 30% of a motor's cost: 0.5).
    """

    type: Literal["import_complete_motors"] = "import_complete_motors"

    mechanism: ClassVar[str] = MECHANISM
    schedule: ClassVar[str] = "embedded_share"
    cost_name: ClassVar[str] = "duty"

    @staticmethod
    def shift(values: FloatArray, moved: FloatArray) -> FloatArray:
        """Move a share ``moved`` of the bare-magnet need to imported assemblies."""
        return values + (1.0 - values) * moved
