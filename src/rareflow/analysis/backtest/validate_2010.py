"""Episode 2010 out of sample: fit on prices up to June 2011, score the prices after it.

The in-sample backtest (:mod:`.episode_2010`) fits its four parameters to all sixteen prices
and reports errors on the same points. Here the fit sees only the points whose period ends by
:data:`CUTOFF` (Q1 2010, July 2010, early 2011 and Q2 2011: six prices); the later ten prices
(about October 2011 and year-end 2011-2014) are the **test**, never seen by any fit. A second
split leaves one calendar year out at a time (every year's points predicted from a fit on the
other years). The **naive rival** is persistence: each element's price stays at its last
training observation.

Observed peaks are dated to when they happened: Nd in August 2011 (New York Times, November
2011: down about a third since August) and Dy in July 2011 (the Japanese buyers' peak); the
"about October 2011" prices are post-peak readings, so the observed peak height is a lower bound.

**Optional blocks**, each cited in episode_series.csv (role ``input``), each fitted again on the
training window alone and scored on the test window, never tuned to it:

- ``exports_as_shipped``: China's exports below the quota: the cap is China's customs exports
  of each year where found (2010, 2011, 2012, 2014), the quota elsewhere (2013);
- ``export_duties``: the FOB China price carries China's export duty: the multiple is scaled by
  ``(1 + duty_t) / (1 + duty_2009)`` (Nd 15% in 2010, 25% from 2011; Dy 25%);
- ``stock_building``: precautionary buying outside China: buyers take ``k`` times the
  pre-episode requirement a month into stock from July 2010 until prices turned (July 2011) and
  release it at the same rate over the next twelve months (an assumption); ``k`` is a fifth
  fitted parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rareflow.analysis.backtest import episode_2010 as base
from rareflow.analysis.backtest.metrics import Interval, Point, month_number
from rareflow.analysis.backtest.periods import parse_period
from rareflow.analysis.backtest.score import ScoreRow, SkillRow, month_text
from rareflow.analysis.calibrate import Calibration, Parameter, calibrate
from rareflow.data.load import Dataset
from rareflow.engine.market import MarketPath, WorldMarket, simulate_market
from rareflow.errors import InputError
from rareflow.model.network import FloatArray

EPISODE = "2010"
CUTOFF = np.datetime64("2011-06", "M")
BLOCKS = ("exports_as_shipped", "export_duties", "stock_building")
VARIANTS: tuple[tuple[str, ...], ...] = ((), *((b,) for b in BLOCKS), BLOCKS)
STOCK = Parameter(
    "stock_building", 0.0, 0.0, 1.0, "fraction", "stock built per month, share of requirement"
)


@dataclass(frozen=True)
class Variant:
    """The episode with some optional blocks switched on."""

    blocks: tuple[str, ...]
    market: WorldMarket
    duty: FloatArray  # (T, K) price factor of the export duties (ones when off)
    stock: FloatArray  # (T,) +1 building, -1 releasing, 0 otherwise (zeros when off)

    @property
    def name(self) -> str:
        """``base`` or the blocks joined by ``+``."""
        return "+".join(self.blocks) if self.blocks else "base"

    def parameters(self, ds: Dataset) -> tuple[Parameter, ...]:
        """Return the parameters fitted: the base four, and the stock-building rate if on."""
        params = base.parameters(ds)
        return (*params, STOCK) if "stock_building" in self.blocks else params

    def simulate(self, episode: base.Episode2010, sets: FloatArray) -> MarketPath:
        """Run the market for (D, P) parameter sets with the blocks applied.

        A fit may try a substitution rate that moves every use away (requirement 0): the fill is
        then infinite and the price at its floor, which is what the market rule gives.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._simulate(episode, sets)

    def _simulate(self, episode: base.Episode2010, sets: FloatArray) -> MarketPath:
        market = self.market
        if "stock_building" in self.blocks:
            # Buyers hoarding take supply away from use; releasing gives it back. Applied to
            # what reaches users through the cap (a draw-wise market per distinct rate).
            rates = sets[:, 4]
            paths = [
                simulate_market(
                    replace(
                        market,
                        exporter_cap=np.maximum(
                            market.exporter_cap - rate * market.requirement0 * self.stock, 0.0
                        ),
                    ),
                    base.market_parameters(episode, sets[i : i + 1, :4]),
                )
                for i, rate in enumerate(rates)
            ]
            path = MarketPath(
                price=np.concatenate([p.price for p in paths]),
                requirement=np.concatenate([p.requirement for p in paths]),
                substituted=np.concatenate([p.substituted for p in paths]),
                demand=np.concatenate([p.demand for p in paths]),
                exporter_shipped=np.concatenate([p.exporter_shipped for p in paths]),
            )
        else:
            path = simulate_market(market, base.market_parameters(episode, sets[:, :4]))
        return replace(path, price=path.price * self.duty[None, :, :])


def _rows(ds: Dataset, series: str) -> list[tuple[str, float]]:
    table = ds.chosen("episode_series")
    got = table[(table["episode"] == EPISODE) & (table["series"] == series)]
    return [(str(r["period"]), float(r["value"])) for _, r in got.iterrows()]


def variant(ds: Dataset, episode: base.Episode2010, blocks: tuple[str, ...]) -> Variant:
    """Build a variant of the episode from its cited rows.

    Raises
    ------
    rareflow.errors.InputError
        If a block's rows are missing from episode_series.csv.
    """
    months = episode.market.months
    market = episode.market
    duty = np.ones((len(months), len(base.ELEMENTS)))
    stock = np.zeros(len(months))
    if "exports_as_shipped" in blocks:
        cap = market.exporter_cap.copy()
        shipped = [(p, v) for p, v in _rows(ds, "china_exports") if p != "2009"]
        if not shipped:
            raise InputError("episode_series.csv: the exports_as_shipped block needs china_exports")
        for label, value in shipped:
            idx = parse_period(label, "episode_series.csv, china_exports").index(months)
            cap[idx] = value * episode.reo_factor / len(idx)
        market = replace(market, exporter_cap=cap)
    if "export_duties" in blocks:
        for k, el in enumerate(base.ELEMENTS):
            rates = sorted(_rows(ds, f"export_duty_{el.lower()}"))
            if not rates:
                raise InputError(f"episode_series.csv: no export_duty_{el.lower()} rows")
            start = 1.0 + rates[0][1]  # the 2009 rate: taken equal to the first found (noted)
            for label, rate in rates:
                first = parse_period(label, "episode_series.csv, export duty").first
                duty[months >= first, k] = (1.0 + rate) / start
    if "stock_building" in blocks:
        for series, sign in (("stock_building", 1.0), ("stock_release", -1.0)):
            spans = _rows(ds, series)
            if not spans:
                raise InputError(f"episode_series.csv: the stock_building block needs {series}")
            for label, _ in spans:
                stock[parse_period(label, f"episode_series.csv, {series}").index(months)] = sign
    return Variant(tuple(blocks), market, duty, stock)


def _log_errors(
    episode: base.Episode2010, v: Variant, sets: FloatArray, points: Sequence[tuple[str, Point]]
) -> FloatArray:
    path = v.simulate(episode, sets)
    cols = []
    for el, p in points:
        k = base.ELEMENTS.index(el)
        idx = p.period.index(episode.market.months)
        model = path.price[:, idx, k].mean(axis=1) * episode.base_price[el]
        cols.append(np.log(model) - np.log(p.value))
    return np.stack(cols, axis=1)


def split(episode: base.Episode2010, test: Callable[[Point], bool]) -> tuple[list[Any], list[Any]]:
    """Training and test points, (element, point) pairs."""
    pts = [(el, p) for el in base.ELEMENTS for p in episode.targets[el]]
    return [x for x in pts if not test(x[1])], [x for x in pts if test(x[1])]


def fit_on(
    ds: Dataset,
    episode: base.Episode2010,
    v: Variant,
    train: Sequence[tuple[str, Point]],
    starts: int,
) -> Calibration:
    """Fit a variant on the training points only."""
    return calibrate(
        lambda s: _log_errors(episode, v, s, train), v.parameters(ds), starts=starts, seed=0
    )


def _in_year(year: str) -> Callable[[Point], bool]:
    def test(p: Point) -> bool:
        return str(p.period.first)[:4] == year

    return test


def _stats(errors: FloatArray) -> dict[str, float]:
    return {
        "points": int(errors.size),
        "rmse_log": round(float(np.sqrt(np.mean(errors**2))), 4),
        "mean_abs_log": round(float(np.mean(np.abs(errors))), 4),
        "median_abs_error_pct": round(float(np.median(np.abs(np.expm1(errors))) * 100), 1),
    }


@dataclass
class Result2010:
    """Out-of-sample scores of the 2010 episode, by variant."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    rows: list[ScoreRow] = field(default_factory=list)
    skill: list[SkillRow] = field(default_factory=list)
    paths: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def observed_peaks(
    ds: Dataset, episode: base.Episode2010
) -> dict[str, tuple[Interval, float, str]]:
    """Return each element's observed peak: months, lower bound of the height, source."""
    table = ds.chosen("episode_series")
    rows = table[table["episode"] == EPISODE].set_index("series")
    nd = parse_period(str(rows.loc["price_nd_vs_peak", "period"]), "price_nd_vs_peak")
    dy = parse_period(str(rows.loc["price_dy_peak_japan", "period"]), "price_dy_peak_japan")
    top = {el: max(p.value for p in episode.targets[el]) for el in base.ELEMENTS}
    return {
        "Nd": (
            Interval(month_number(nd.first), month_number(nd.first)),
            top["Nd"],
            str(rows.loc["price_nd_vs_peak", "source_id"]),
        ),
        "Dy": (
            Interval(month_number(dy.first), month_number(dy.first)),
            top["Dy"],
            str(rows.loc["price_dy_peak_japan", "source_id"]),
        ),
    }


def validate_2010(ds: Dataset, *, starts: int = 8, leave_one_out: bool = True) -> Result2010:
    """Fit every variant on data up to June 2011 and score it on the rest.

    Parameters
    ----------
    ds
        The dataset (episode 2010 of episode_series.csv).
    starts
        Starting points of each fit.
    leave_one_out
        Also fit each variant leaving one year out at a time.
    """
    episode = base.load_episode(ds)
    out = Result2010()
    train, test = split(episode, lambda p: bool(p.period.last > CUTOFF))
    peaks = observed_peaks(ds, episode)
    grid = episode.market.months
    first = month_number(grid[0])
    last_train = {
        el: max((p for e, p in train if e == el), key=lambda p: p.period.last)
        for el in base.ELEMENTS
    }
    persistence = np.array([np.log(last_train[el].value) - np.log(p.value) for el, p in test])
    out.notes.append(
        f"training: {len(train)} prices with periods ending by {CUTOFF}; test: {len(test)} "
        "later prices, never seen by a fit; rival: persistence (the last training price)"
    )
    for blocks in VARIANTS:
        v = variant(ds, episode, blocks)
        cal = fit_on(ds, episode, v, train, starts)
        sets = cal.values[None, :]
        fit_err = _log_errors(episode, v, sets, train)[0]
        test_err = _log_errors(episode, v, sets, test)[0]
        record: dict[str, Any] = {
            "variant": v.name,
            "fitted": {
                p.name: round(float(x), 4) for p, x in zip(cal.parameters, cal.values, strict=True)
            },
            "fit": _stats(fit_err),
            "test": _stats(test_err),
        }
        if not blocks:
            # For reference: the same variant fitted to all sixteen prices, scored on them.
            everything = [*train, *test]
            c = fit_on(ds, episode, v, everything, starts)
            record["in_sample_all"] = _stats(
                _log_errors(episode, v, c.values[None, :], everything)[0]
            )
        if leave_one_out:
            years = sorted({str(p.period.first)[:4] for _, p in (*train, *test)})
            loo = []
            for year in years:
                tr, te = split(episode, _in_year(year))
                c = fit_on(ds, episode, v, tr, max(2, starts // 2))
                loo.append(_log_errors(episode, v, c.values[None, :], te)[0])
            record["leave_one_year_out"] = _stats(np.concatenate(loo))
        out.errors.append(record)
        out.skill.append(
            SkillRow(
                EPISODE,
                v.name,
                "Nd and Dy oxide prices after June 2011",
                "FOB China",
                len(test),
                "mean |log error|",
                float(np.mean(np.abs(test_err))),
                "persistence (last training price)",
                float(np.mean(np.abs(persistence))),
            )
        )
        path = v.simulate(episode, sets)
        for k, el in enumerate(base.ELEMENTS):
            price = path.price[0, :, k] * episode.base_price[el]
            months, height, source = peaks[el]
            idx = int(np.argmax(price))
            err = months.error(idx + first)
            months_off = f"{abs(err):.0f} month" + ("" if abs(err) == 1 else "s")
            side = "late" if err > 0 else "early"
            verdict = "inside" if err == 0 else f"outside: model {months_off} {side}"
            out.rows.append(
                ScoreRow(
                    EPISODE,
                    v.name,
                    f"price_{el.lower()}_oxide",
                    f"{el} oxide price (FOB China)",
                    "peak month",
                    "month",
                    month_text(months.low),
                    str(grid[idx]),
                    "fit on data to June 2011",
                    verdict,
                    err,
                    (source,),
                    "observed peak dated to when it happened",
                )
            )
            gap = price[idx] / height - 1
            out.rows.append(
                ScoreRow(
                    EPISODE,
                    v.name,
                    f"price_{el.lower()}_oxide",
                    f"{el} oxide price (FOB China)",
                    "peak height",
                    "usd_per_kg",
                    f">= {height:,.0f}",
                    f"{price[idx]:,.0f}",
                    "fit on data to June 2011",
                    "inside (at or above the post-peak reading)"
                    if gap >= 0
                    else f"outside: {100 * -gap:.0f}% below a post-peak reading",
                    min(0.0, float(price[idx] - height)),
                    tuple(sorted({p.source_id for p in episode.targets[el]})),
                    "the highest observed FOB price is a post-peak reading: a lower bound",
                )
            )
            out.paths.append(
                {
                    "variant": v.name,
                    "element": el,
                    "months": [str(m) for m in grid],
                    "price": price.round(2).tolist(),
                    "observed": [
                        {
                            "first": str(p.period.first),
                            "last": str(p.period.last),
                            "value": p.value,
                            "train": bool(p.period.last <= CUTOFF),
                        }
                        for p in episode.targets[el]
                    ],
                }
            )
    reference = out.errors[0]["test"]["mean_abs_log"]
    for record in out.errors[1:]:
        better = record["test"]["mean_abs_log"] < reference
        record["closes_gap_out_of_sample"] = better
        out.notes.append(
            f"{record['variant']}: test |log error| {record['test']['mean_abs_log']:.3f} against "
            f"{reference:.3f} without it: "
            + ("closes part of the gap out of sample" if better else "does not close the gap")
        )
    out.notes.append(
        "blocks: exports_as_shipped caps China's exports at customs exports where found (2013 "
        "keeps its quota); export_duties scales FOB prices by the duty (2009 rate taken equal "
        "to 2010's, an assumption); stock_building's rate is fitted on the training window "
        "alone and its release over the 12 months after July 2011 is an assumption"
    )
    return out
