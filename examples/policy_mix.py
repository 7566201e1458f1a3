# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Choosing a policy mix
#
# Under the April 2025 controls, which measure keeps more of India's production running: more
# magnet stock, faster licences, or more supply from outside China? This notebook runs each
# variant with the same draws and seed, so the differences are the measures' alone, and compares
# their shortfall with its uncertainty. Costs come with the levers (issue 9); the optimiser
# (issue 10) will take these variants' place and search the mix that meets a shortfall target
# at the least cost, on the same API: a scenario in, an `xarray.Dataset` out.
#
# `RAREFLOW_EXAMPLE_DRAWS` sets the ensemble size (default 500).

# %%
import os

import numpy as np
import pandas as pd

from rareflow.data import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.scenario.load import load_scenario
from rareflow.scenario.schema import Scenario

DRAWS = int(os.environ.get("RAREFLOW_EXAMPLE_DRAWS", "500"))
ds = load_dataset()
base = with_overrides(load_scenario("china-2025-april"), draws=DRAWS, seed=1)

# %% [markdown]
# ## The variants
# Each is the preset with one change made through its YAML fields (the same fields a user
# edits in a scenario file or in the dashboard).


# %%
def edit(scenario: Scenario, name: str, change) -> Scenario:
    data = scenario.model_dump(mode="json", by_alias=True)
    change(data)
    data["name"] = name
    return Scenario.model_validate(data)


def more_stock(d):  # eight weeks of magnets instead of 2-3
    d["parameters"]["industry_cover_weeks"] = 8.0


def faster_licences(d):  # the first phase decided in 45-90 days, half to 90% approved
    d["shocks"][0]["licence"][0]["delay_days"] = {"dist": "uniform", "low": 45, "high": 90}
    d["shocks"][0]["licence"][0]["approval_probability"] = {
        "dist": "uniform",
        "low": 0.5,
        "high": 0.9,
    }


def more_non_china(d):  # partners outside the control can double their headroom
    d["uncertain"] = [*d.get("uncertain", []), {"table": "supplier_headroom", "scale": 2.0}]


def all_three(d):
    more_stock(d)
    faster_licences(d)
    more_non_china(d)


variants = {
    "April 2025 controls": base,
    "more stock cover": edit(base, "more-stock", more_stock),
    "faster licences": edit(base, "faster-licences", faster_licences),
    "more non-China supply": edit(base, "more-non-china", more_non_china),
    "all three": edit(base, "all-three", all_three),
}
results = {label: run(sc, dataset=ds).results for label, sc in variants.items()}

# %% [markdown]
# ## Shortfall, all sectors, over the 36 months
# Median with the 5th-95th percentiles over draws, and the share of the requirement unmet.


# %%
def spread(values: np.ndarray) -> str:
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    return f"{p50:,.0f} [{p5:,.0f}..{p95:,.0f}]"


rows = []
for label, res in results.items():
    short = res.shortfall.sum(["sector", "time"]).to_numpy()
    need = res.requirement.sum(["sector", "time"]).to_numpy()
    peak = res.shortfall.sum("sector").max("time").to_numpy()
    rows.append(
        {
            "variant": label,
            "shortfall (t)": spread(short),
            "unmet (%)": f"{100 * np.median(short / need):.1f}",
            "peak month (t)": spread(peak),
            "P(shortfall > 1,000 t)": f"{np.mean(short > 1000):.0%}",
        }
    )
table = pd.DataFrame(rows)
print(table.to_string(index=False))

# %% [markdown]
# ## Draw by draw
# The same draws run in every variant, so each variant's gain can be read per draw: how often
# does a measure beat another under the same licence delays and stocks?

# %%
ref = results["April 2025 controls"].shortfall.sum(["sector", "time"])
for label, res in results.items():
    gain = ref - res.shortfall.sum(["sector", "time"])
    median, better = float(gain.median()), float((gain > 0).mean())
    print(f"{label:24s} median gain {median:8,.0f} t, better in {better:.0%} of draws")
