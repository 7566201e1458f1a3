"""EU CRM 2023 supply-risk reproduction: second attempt, not reproducible from public inputs found.

Target: European Commission, DG GROW (Grohol, M. and Veeh, C.), *Study on the Critical Raw
Materials for the EU 2023 - Final Report*, doi:10.2873/725585, rare-earth groups LREE and HREE,
with the methodology of Blengini et al. (2017), doi:10.2760/73303 (rareflow.indicators.
eu_supply_risk).

What was searched (about 25 queries, November 2026):

- ``pages`` corpus: 'CRM 2023 factsheets light rare earth elements supply risk'; 'Study on the
  critical raw materials for the EU 2023 final report supply risk economic importance results
  table'; 'LREE supply risk 3.7 economic importance 5.9 critical raw materials 2023'; 'HREE supply
  risk 5.6 critical raw materials assessment 2023 results'; 'JRC RMIS raw materials profiles
  supply risk LREE HREE 2023 criticality assessment'; 'EU 2023 criticality assessment rare earths
  import reliance end-of-life recycling input rate substitution index supply risk table LREE HREE
  processing stage'. Found only catalogue pages of the study (CoR library guide, Western Balkans
  info hub, doganasostenibile.it) and the 2017 background report; no results table, no factsheet.
- ``docs`` corpus: 'SCRREEN 2023 factsheet heavy rare earth elements supply risk'; 'critical raw
  materials 2023 EI SR results table rare earths'. Nothing relevant (the dw-data/crm README points
  to the 2020 list).
- ``code`` corpus: 'EU critical raw materials 2023 supply risk economic importance csv LREE
  HREE'; 'EU CRM list 2023 supply risk values per material dataset json scandium LREE HREE
  economic importance'; 'SCRREEN factsheet light rare earth elements 2023 import reliance
  EoL-RIR'. Found a student Streamlit exercise that reads a JRC-style workbook (sheets
  'Others_inputs_SR', 'WGI Scaled' column) but ships no data, and a parser of a 2017 results
  table whose data file is not stored.
- ``issues`` corpus: 'criticality assessment 2023 supply risk LREE HREE values reproduce
  methodology'. Nothing relevant.
- ``find_repos`` 'critical-raw' and ``find_string`` 'Light rare earth elements', 'Heavy rare earth
  elements,', 'LREE,', 'EoL-RIR', 'SI_SR', 'WGI Scaled', 'LREEs,2023,3.7,5.9'.

What was found: the unofficial repository erikemilsson/EU-Critical-Raw-Materials-CRM-Reports-
Datasets ('Unofficial repository for the datasets in reports from the European Commission'),
whose files transcribe from the 2023 final report:

- ``Data/dimension_CRMsOverTime.csv``: SR and EI by year, 2023 rows LREEs SR 3.7, EI 5.9 and
  HREEs SR 5.1, EI 4.2 (the page of the report is not given);
- ``Data/fact_GlobalSupplyShares&t.csv`` and ``Data/fact_EUSupplyShares&t.csv``: global supply and
  EU sourcing shares with trade factors t, per element and stage (E, P), 'Appendix 7, pg. 78'
  according to its ``data_cleaning.md``.

What is missing, so nothing can be reproduced: the scaled WGI of each country, the import
reliance, EoL-RIR and SI_SR of LREE and HREE (or of their elements), and how the 2023 study turns
the elements' figures into the groups' SR. Without them any ``eu_crm_2023.json`` would be a guess
tuned to 3.7 and 5.1, so none is shipped, and the published values are recorded here only as what
a future reproduction must meet (within 0.1) once the inputs are found in the report itself.
"""

from __future__ import annotations

from pathlib import Path

import rareflow.indicators

DATA = Path(rareflow.indicators.__file__).parent / "data"


def test_no_guessed_2023_inputs_are_shipped() -> None:
    # Inputs tuned to hit a published SR would look like a reproduction without being one.
    assert not (DATA / "eu_crm_2023.json").exists()
