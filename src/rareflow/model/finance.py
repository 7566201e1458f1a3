"""Project finance: net present value, internal rate of return and an investment rule.

A project is annual cash flows over a build period and an operating life. Its value to the
investor is the net present value

    NPV(r) = sum_t CF_t / (1 + r) ** t,  t = 0, 1, ..., N,

and its internal rate of return is the rate r* at which NPV(r*) = 0 (Brealey, Myers and Allen,
*Principles of Corporate Finance*, 13th ed., McGraw-Hill 2020, chapters 2 and 5). The discount
rate is the investor's cost of capital; with a share ``debt_share`` financed at a concessional
rate ``cut`` points below the market rate, the weighted average cost of capital falls by
``debt_share * cut`` (ibid., chapter 9; taxes ignored).

Everything is vectorised over draws (leading axis) with NumPy. The IRR is found by bisection on a
bracket where NPV changes sign (NPV is decreasing in r for a conventional project: outlays, then
income); draws with no sign change get NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

IRR_LOW = -0.99
"""Lowest rate searched for the IRR."""
IRR_HIGH = 10.0
"""Highest rate searched for the IRR."""


def npv(cash: FloatArray, rate: FloatArray | float) -> FloatArray:
    """Net present value of annual cash flows, the first at t = 0.

    Parameters
    ----------
    cash
        (..., N) cash flows by year.
    rate
        Discount rate per year, broadcast against ``cash[..., 0]``.

    Returns
    -------
    FloatArray
        (...,) NPV = sum_t cash_t / (1 + rate) ** t.
    """
    years = np.arange(cash.shape[-1], dtype=np.float64)
    r = np.asarray(rate, dtype=np.float64)[..., None]
    return np.asarray(np.sum(cash / (1.0 + r) ** years, axis=-1), dtype=np.float64)


def irr(cash: FloatArray, tol: float = 1e-10, max_iter: int = 200) -> FloatArray:
    """Return the internal rate of return of each row of annual cash flows, by bisection.

    Parameters
    ----------
    cash
        (..., N) cash flows by year (a conventional project: outlays first).
    tol
        Width of the bracket at which bisection stops.
    max_iter
        Most halvings.

    Returns
    -------
    FloatArray
        (...,) the rate in [IRR_LOW, IRR_HIGH] at which the NPV is zero; NaN where the NPV does
        not change sign on that interval.
    """
    lo = np.full(cash.shape[:-1], IRR_LOW)
    hi = np.full(cash.shape[:-1], IRR_HIGH)
    f_lo = npv(cash, lo)
    f_hi = npv(cash, hi)
    valid = np.sign(f_lo) != np.sign(f_hi)
    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        f_mid = npv(cash, mid)
        same = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(same, mid, lo)
        f_lo = np.where(same, f_mid, f_lo)
        hi = np.where(same, hi, mid)
        if float(np.max(hi - lo, initial=0.0)) < tol:
            break
    return np.where(valid, 0.5 * (lo + hi), np.nan)


@dataclass(frozen=True)
class Project:
    """A plant's economics, per draw (each field broadcast to (D,)).

    Parameters
    ----------
    output_t
        Output sold per year at full capacity, t of the product.
    capex_usd
        Capital cost, spent evenly over the build years.
    opex_usd_per_kg
        Operating cost per kg of product.
    price_usd_per_kg
        Market price of the product in the first operating year.
    price_growth
        Change of the market price per year (a fraction; -0.05 is a 5% fall a year).
    build_years
        Whole years of building before the first output.
    life_years
        Whole years of operation.
    discount_rate
        The investor's cost of capital per year, before any instrument and without the host
        country's risk premium.
    """

    output_t: FloatArray
    capex_usd: FloatArray
    opex_usd_per_kg: FloatArray
    price_usd_per_kg: FloatArray
    price_growth: FloatArray
    build_years: int
    life_years: int
    discount_rate: FloatArray


@dataclass(frozen=True)
class Instruments:
    """Public instruments that change a project's cash flows or cost of capital.

    Parameters
    ----------
    price_floor_usd_per_kg
        The product is paid at least this (NaN: no floor); the state pays the difference.
    floor_years
        Operating years the floor lasts.
    offtake_share
        Share of output a public buyer guarantees to take at the market price when the market
        would not: sales are max(utilisation, offtake_share) of capacity.
    utilisation
        Share of capacity the market takes without a guarantee.
    capex_subsidy_share
        Share of capex paid by the state (capital subsidy or investment tax credit).
    debt_share
        Share of capex financed by a concessional loan.
    concessional_cut
        Points by which the concessional loan's rate is below the market rate (blended finance).
    country_risk_premium
        Risk premium the investor adds to its discount rate for the host country.
    risk_cover
        Sovereign risk cover (as KABIL could provide): the state takes the country risk, so the
        premium leaves the investor's rate.
    """

    price_floor_usd_per_kg: FloatArray
    floor_years: int
    offtake_share: FloatArray
    utilisation: FloatArray
    capex_subsidy_share: FloatArray
    debt_share: FloatArray
    concessional_cut: FloatArray
    country_risk_premium: FloatArray
    risk_cover: bool


@dataclass(frozen=True)
class Appraisal:
    """A project appraised per draw.

    Parameters
    ----------
    npv_usd
        (D,) NPV to the investor at its cost of capital.
    irr
        (D,) internal rate of return of the investor's cash flows (NaN if none).
    rate
        (D,) the investor's cost of capital with the instruments.
    build
        (D,) True where NPV >= 0: the investment rule says build.
    sold_share
        (D,) share of capacity sold each operating year.
    floor_gap_usd_per_kg
        (D, N) floor minus market price per kg where the floor pays, by year (else 0).
    floor_payout_usd
        (D, N) state's payments under the floor by year on the sold output (0 during the build).
    capex_subsidy_usd
        (D, N) state's capital subsidy by year.
    interest_subsidy_usd
        (D, N) cost to the state of the concessional loan's lower rate by year.
    risk_cover_usd
        (D, N) expected cost to the state of the risk it covers by year.
    """

    npv_usd: FloatArray
    irr: FloatArray
    rate: FloatArray
    build: NDArray[np.bool_]
    sold_share: FloatArray
    floor_gap_usd_per_kg: FloatArray
    floor_payout_usd: FloatArray
    capex_subsidy_usd: FloatArray
    interest_subsidy_usd: FloatArray
    risk_cover_usd: FloatArray


def appraise(project: Project, tools: Instruments) -> Appraisal:
    """Appraise a project with instruments, per draw.

    Year 0 .. B-1 are build years (capex spread evenly, less the subsidy); years B .. B+L-1
    operate at the sold share of capacity. Revenue per kg is the market price, or the floor
    where it is higher during the floor's years. The state's costs are the floor payouts, the
    capital subsidy, the interest subsidy (the concessional cut times the loan still
    outstanding, repaid in equal instalments over the life) and the risk cover (the premium
    times the capital still at risk, which is the risk-neutral expected loss the investor had
    priced in).

    Parameters
    ----------
    project
        The plant.
    tools
        The instruments.

    Returns
    -------
    Appraisal
        NPV, IRR, the build decision and the state's costs by year.
    """
    b, life = project.build_years, project.life_years
    n = b + life
    d_n = max(
        np.asarray(x).size
        for x in (
            project.output_t, project.capex_usd, project.opex_usd_per_kg,
            project.price_usd_per_kg, project.price_growth, project.discount_rate,
            tools.price_floor_usd_per_kg, tools.offtake_share, tools.utilisation,
            tools.capex_subsidy_share, tools.debt_share, tools.concessional_cut,
            tools.country_risk_premium,
        )
    )  # fmt: skip

    def col(x: FloatArray) -> FloatArray:
        return np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(-1), (d_n,))[:, None]

    years = np.arange(n)[None, :]
    operating = years >= b
    op_year = np.clip(years - b, 0, None)
    market = col(project.price_usd_per_kg) * (1.0 + col(project.price_growth)) ** op_year
    floor = col(tools.price_floor_usd_per_kg)
    floored = operating & (op_year < tools.floor_years) & ~np.isnan(floor)
    price = np.where(floored, np.maximum(market, np.nan_to_num(floor, nan=0.0)), market)
    sold = np.maximum(col(tools.utilisation), col(tools.offtake_share))
    kg = np.where(operating, col(project.output_t) * sold * 1000.0, 0.0)
    capex = col(project.capex_usd)
    subsidy_share = col(tools.capex_subsidy_share)
    build_years = np.where(years < b, 1.0, 0.0) / max(b, 1)
    capex_by_year = capex * (build_years if b > 0 else np.where(years == 0, 1.0, 0.0))
    cash = kg * (price - col(project.opex_usd_per_kg)) - capex_by_year * (1.0 - subsidy_share)

    premium = col(tools.country_risk_premium)
    rate = col(project.discount_rate) - col(tools.debt_share) * col(tools.concessional_cut)
    if not tools.risk_cover:
        rate = rate + premium
    rate = np.maximum(rate, IRR_LOW + 1e-6)
    value = npv(cash, rate[:, 0])
    # Capital outstanding: built up over the build, repaid evenly over the life.
    repaid = np.clip((years - b + 1) / max(life, 1), 0.0, 1.0)
    outstanding = capex * np.where(operating, 1.0 - repaid, np.cumsum(build_years, axis=1))
    interest = col(tools.debt_share) * col(tools.concessional_cut) * outstanding
    cover = premium * outstanding if tools.risk_cover else np.zeros_like(outstanding)
    return Appraisal(
        npv_usd=value,
        irr=irr(cash),
        rate=rate[:, 0],
        build=value >= 0.0,
        sold_share=sold[:, 0],
        floor_gap_usd_per_kg=np.where(floored, price - market, 0.0),
        floor_payout_usd=np.where(floored, (price - market) * kg, 0.0),
        capex_subsidy_usd=capex_by_year * subsidy_share,
        interest_subsidy_usd=interest,
        risk_cover_usd=cover,
    )
