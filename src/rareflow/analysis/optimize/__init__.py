"""The cheapest policy mix: lever levels that minimise shortfall risk within a budget.

A scenario-based linear programme (stochastic programming with equiprobable sampled scenarios,
Birge and Louveaux 2011, *Introduction to Stochastic Programming*, Springer) is built from engine
runs and solved with HiGHS (Huangfu and Hall 2018, Mathematical Programming Computation 10,
119-142) through linopy (Hofmann 2023, JOSS 8(84), 4823).

**Data from the engine.** For each sampled draw ``s`` and month ``t`` up to the horizon:

- ``B[c, s, t]``: the baseline shortfall (t magnet) of the scenario as given, summed over the
  sectors of weight class ``c`` (sectors with the same weight are interchangeable in the
  objective, so they are pooled exactly);
- ``E[l, s, t]``: extra magnet supply per unit of flow lever ``l``, from the lever's mechanics as
  compiled: a supply contract's contracted volume at its reliability and ramp, less any supply
  cut, arriving after the partner's lead time (per t/yr contracted); new magnet capacity's extra
  output as the engine simulates it, inputs permitting (per t/yr, from a run at the upper level);
- per stockpile ``p``: the step it is full (start plus fill months) and its release rate (share of
  its size per step);
- ``c_l``: expected cost per unit of each lever over the horizon, from the lever's own cost model
  in a run at its upper level (US$ of the price year, in ₹ crore at the dataset's rate).

**Programme.** Levels ``0 <= x_l <= U_l``; releases ``r[p, s, t] >= 0``, zero before the
stockpile is full, ``r <= x_p * rate_p`` and ``sum_t r[p, s, t] <= x_p``; magnets served beyond
the baseline ``0 <= v[c, s, t] <= B[c, s, t]`` with ``sum_c v <= sum_l E x + sum_p r``; budget
``sum_l c_l x_l <= budget``. The loss of a draw is its weighted cumulative shortfall
``L_s = sum_{c,t} w_c (B - v)``. Objective: the expected loss ``(1/S) sum_s L_s``, or the
conditional value at risk at level ``alpha`` by the Rockafellar-Uryasev linearisation
(Rockafellar and Uryasev 2000, Journal of Risk 2(3), 21-41):
``min eta + 1/((1 - alpha) S) sum_s z_s`` with ``z_s >= L_s - eta``, ``z_s >= 0``.

**Approximations** (see docs/decisions.md): effects are linear in levels (capacity is measured at
its upper level and interpolated through zero, which understates a concave response); lever
effects add without interaction and extra supply serves shortfall only in the month it arrives (no
carry-over in industry stock, no price feedback); magnet types are pooled; the stockpile is full
from its fill date, is not refilled, and its releases are chosen knowing the draw's path (the
engine releases by its trigger rule instead). So the LP's mix is written back as levers and
simulated in the full engine on the LP's own draws, beside each option alone that the budget buys
and the LP's mix with one option less or more; the engine's best in sample is returned, the LP's
prediction set beside the engine's figure (:func:`choose`), and re-simulated on fresh draws that
take no part in the choice (:func:`optimise`).

**Modules.** :mod:`.options` (the choices offered, their defaults, the risk measure),
:mod:`.effects` (the LP's data from engine runs, each option's effect from its lever's own effect
model), :mod:`.lp` (the programme, its solution with HiGHS, its calibration), :mod:`.decision`
(the Pareto front, the validation runs and the result's shape). A solver failure raises
:class:`rareflow.errors.SolverError`, as in the stress test.
"""

from rareflow.analysis.optimize.decision import (
    BUDGET,
    MORE_OF,
    Candidate,
    Decision,
    Evaluation,
    choice_note,
    choose,
    decision_rows,
    evaluate,
    horizon_months,
    optimise,
    probed,
    with_mix,
)
from rareflow.analysis.optimize.effects import (
    build_problem,
    modelled_levers,
    run_cost,
    sector_weights,
    value_weights,
    weighted_loss,
)
from rareflow.analysis.optimize.lp import (
    WEIGHT_CLASS,
    Problem,
    Programme,
    Solution,
    calibrate,
    cvar,
    solve,
)
from rareflow.analysis.optimize.options import (
    DEFAULT_WEIGHTS,
    PACKAGES,
    PARETO_FRACTIONS,
    Option,
    default_options,
    linear_options,
    package_options,
    parse_risk,
)

__all__ = [
    "BUDGET",
    "DEFAULT_WEIGHTS",
    "MORE_OF",
    "PACKAGES",
    "PARETO_FRACTIONS",
    "WEIGHT_CLASS",
    "Candidate",
    "Decision",
    "Evaluation",
    "Option",
    "Problem",
    "Programme",
    "Solution",
    "build_problem",
    "calibrate",
    "choice_note",
    "choose",
    "cvar",
    "decision_rows",
    "default_options",
    "evaluate",
    "horizon_months",
    "linear_options",
    "modelled_levers",
    "optimise",
    "package_options",
    "parse_risk",
    "probed",
    "run_cost",
    "sector_weights",
    "solve",
    "value_weights",
    "weighted_loss",
    "with_mix",
]
