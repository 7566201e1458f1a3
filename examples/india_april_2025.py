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
# # India under the April 2025 controls
#
# On 4 April 2025 China made seven rare earths, and magnets containing them, subject to export
# licences. India's industry held magnets for 11-16 weeks (inventories.csv), and the first
# licences for Indian buyers came 209 days later. This notebook runs the `china-2025-april`
# preset beside its baseline and looks at the shortfall by sector and month, prices, stocks and
# the chain's flows.
#
# Open it in Jupyter with `jupytext --to notebook examples/india_april_2025.py`, or run it as a
# script. `RAREFLOW_EXAMPLE_DRAWS` sets the ensemble size (default 1,000).

# %%
import os

from rareflow.analysis.summary import sector_summary, summary_rows
from rareflow.data import load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.report import baseline_for, build_report, from_result
from rareflow.report.fan import shortfall_fan
from rareflow.scenario.load import load_scenario

DRAWS = int(os.environ.get("RAREFLOW_EXAMPLE_DRAWS", "1000"))
ds = load_dataset()

# %% [markdown]
# ## Run the controls and their baseline
# The baseline is the same scenario without its shock: same draws, same seed.

# %%
scenario = with_overrides(load_scenario("china-2025-april"), draws=DRAWS, seed=1)
shock = from_result(run(scenario, dataset=ds))
baseline = baseline_for(shock, ds)
res = shock.results
print(res)

# %% [markdown]
# ## Shortfall by sector
# Median with the 5th-95th percentiles over draws.

# %%
for row in summary_rows(sector_summary(res)):
    print(row)

# %% [markdown]
# ## Month by month, all sectors
# The results are an `xarray.Dataset`: select, sum and take quantiles by named dimension.

# %%
monthly = res.shortfall.sum("sector").quantile([0.05, 0.5, 0.95], dim="draw")
print(monthly.to_pandas().T.round(1).head(18))

# %% [markdown]
# Prices and stocks answer: the sintered-magnet price multiple and the magnet stock, median.

# %%
magnet = "magnet_ndfeb_sintered"
print(res.price_multiple.sel(material=magnet).median("draw").to_pandas().round(2).head(18))
print(res.stock.sel(material=magnet).median("draw").to_pandas().round(1).head(18))

# %% [markdown]
# ## The report's figures
# Each figure is a plotly figure: `fig.show()` in Jupyter. The whole report, as one HTML file
# that opens offline, is `rareflow report china-2025-april --out report.html`.

# %%
fig = shortfall_fan(res, baseline.results)
report = build_report(shock, baseline, ds)
print(sorted(report.figures))
print(report.tables["Headline figures, all sectors"].to_string(index=False))
