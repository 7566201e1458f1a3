"""Supply-risk indicators, each a standalone module taking plain inputs.

- :mod:`~rareflow.indicators.concentration`: HHI, top-1 and top-3 shares;
- :mod:`~rareflow.indicators.import_reliance`: net import reliance (USGS);
- :mod:`~rareflow.indicators.eu_supply_risk`: EU supply risk and economic importance (JRC 2017);
- :mod:`~rareflow.indicators.geopolrisk`: GeoPolRisk of a country's imports (Gemechu et al. 2016);
- :mod:`~rareflow.indicators.stress_test`: time-to-survive and performance impact of node
  disruptions (Simchi-Levi et al. 2015).
"""
