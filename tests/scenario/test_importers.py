"""Importers competing for partners' headroom (issue 18 item 2): the compile phase's rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from rareflow.analysis.summary import draw_scalars
from rareflow.data.load import Dataset, load_dataset
from rareflow.engine.run import run, with_overrides
from rareflow.errors import ScenarioError
from rareflow.scenario.compile import compile_scenario
from rareflow.scenario.compile.importers import importers, region_of
from rareflow.scenario.load import load_scenario, parse_scenario
from rareflow.scenario.schema import Scenario

HEADER = "importer,metric,value,low,high,unit,year,source_id,choice,note\n"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset(from_env=False)


@pytest.fixture(scope="module")
def april() -> Scenario:
    return with_overrides(load_scenario("china-2025-april"), draws=8)


def _surge(scenario: Scenario, ds: Dataset) -> tuple[np.ndarray, tuple[str, ...], int]:
    compiled = compile_scenario(scenario, dataset=ds)
    net = compiled.network
    start = int(np.flatnonzero(net.licensed[0].any(axis=(1, 2)))[0])
    return np.broadcast_to(net.surge, (8, *net.surge.shape[1:])), net.partners, start


def test_room_opens_only_after_the_control_and_never_at_the_controlling_exporter(
    april: Scenario, dataset: Dataset
) -> None:
    surge, partners, start = _surge(april, dataset)
    assert (surge[:, :start] == 0).all()
    assert (surge[:, :, partners.index("CHN")] == 0).all()
    free = [p for p in partners if p != "CHN"]
    assert all((surge[:, start + 1 :, partners.index(p)] > 0).any() for p in free)


def test_other_importers_with_more_need_leave_the_focal_country_less(
    april: Scenario, dataset: Dataset, tmp_path: Path
) -> None:
    surge, _, _ = _surge(april, dataset)
    # Every other importer's first licences as late as 10 years: they stay short throughout.
    rows = [
        f"{r.code},first_licence_delay,3650,,,days,2025,rareflow-assumption,chosen,test\n"
        for r in importers(dataset)
        if r.code != "IND"
    ]
    (tmp_path / "importers.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    crowded, _, _ = _surge(april, load_dataset(tmp_path, from_env=False))
    assert (crowded <= surge + 1e-12).all()
    assert (crowded < surge - 1e-9).any()


def test_a_control_on_the_focal_country_alone_gives_it_at_most_the_headroom(
    april: Scenario, dataset: Dataset
) -> None:
    surge, _, start = _surge(april, dataset)
    data = april.model_dump(mode="json", by_alias=True)
    data["shocks"][0]["destinations"] = "focal"
    focal_only = parse_scenario(yaml.safe_dump(data, sort_keys=False), "test")
    alone, _, _ = _surge(focal_only, dataset)
    # No one else is short: while India is, its room at each partner is that partner's headroom
    # (as a share of its own baseline volume from it), as for a country that competes alone,
    # never 1 / w_f times it (about 67 for India's weight of 0.015).
    solo, _, _ = _surge(april, _without(dataset, "importers", None))
    np.testing.assert_allclose(alone, solo, rtol=1e-12)
    assert alone.max() <= 0.6
    assert (alone >= surge - 1e-12).all()
    assert (alone[:, start:] > surge[:, start:] + 1e-9).any()


def test_headroom_scale_reaches_the_room_and_an_unused_entry_is_refused(
    april: Scenario, dataset: Dataset
) -> None:
    surge, _, _ = _surge(april, dataset)
    doubled = april.model_copy(
        update={
            "uncertain": [
                *april.uncertain,
                *parse_scenario(
                    "name: x\nuncertain:\n  - {table: supplier_headroom, scale: 2}\n", "t"
                ).uncertain,
            ]
        }
    )
    twice, _, _ = _surge(doubled, dataset)
    np.testing.assert_allclose(twice, 2 * surge)
    focal_cover = april.model_copy(
        update={
            "uncertain": parse_scenario(
                "name: x\nuncertain:\n  - {table: importers, where: {importer: IND, metric: "
                "cover}, scale: 2}\n",
                "t",
            ).uncertain
        }
    )
    with pytest.raises(ScenarioError, match="only its share_of_china_magnet_exports"):
        compile_scenario(focal_cover, dataset=dataset)


def test_focal_regions(dataset: Dataset) -> None:
    codes = tuple(r.code for r in importers(dataset))
    assert set(codes) == {"IND", "JPN", "KOR", "EUU", "USA", "ROW"}
    assert region_of(dataset, "JPN", codes) == "JPN"
    assert region_of(dataset, "DEU", codes) == "EUU"
    assert region_of(dataset, "VNM", codes) == "ROW"


def test_an_importer_without_a_metric_is_left_out_and_named(
    april: Scenario, dataset: Dataset
) -> None:
    reduced = _without(dataset, "importers", "first_licence_delay")
    assert all(r.missing == ("first_licence_delay",) for r in importers(reduced))
    notes = " ".join(compile_scenario(april, dataset=reduced).notes)
    assert "IND competes as IND with no one" in notes
    assert "USA left out (no chosen first_licence_delay row in importers.csv)" in notes
    # Without its own weight the focal country competes alone: while short, its room at a
    # partner is that partner's whole headroom, one value per draw (0.1-0.5 for Japan).
    bare = _without(dataset, "importers", None)
    compiled = compile_scenario(april, dataset=bare)
    assert "no chosen share_of_china_magnet_exports row" in " ".join(compiled.notes)
    room = compiled.network.surge[:, :, compiled.network.partners.index("JPN")]
    for row in room:
        values = np.unique(row[row > 0])
        assert len(values) == 1
        assert 0.1 <= values[0] <= 0.5


def _without(ds: Dataset, table: str, metric: str | None) -> Dataset:
    """The dataset with a metric's rows of a table taken out (all its rows if None)."""
    chosen = ds.chosen(table)
    kept = chosen.iloc[0:0] if metric is None else chosen[chosen["metric"] != metric]

    class Reduced:
        def __getattr__(self, name: str) -> object:
            return getattr(ds, name)

        def chosen(self, name: str) -> object:
            return kept if name == table else ds.chosen(name)

    return Reduced()  # type: ignore[return-value]


def test_an_other_importers_licence_delay_changes_the_room(
    april: Scenario, dataset: Dataset
) -> None:
    surge, _, _ = _surge(april, dataset)
    later = april.model_copy(
        update={
            "uncertain": parse_scenario(
                "name: x\nuncertain:\n  - {table: importers, where: {importer: EUU, metric: "
                "first_licence_delay}, scale: 3}\n",
                "t",
            ).uncertain
        }
    )
    eu_late, _, _ = _surge(later, dataset)
    # The EU short for longer: India's share of the headroom falls in those months.
    assert (eu_late <= surge + 1e-12).all()
    assert (eu_late < surge - 1e-9).any()


def test_a_full_embargo_on_india_is_short_in_every_draw_and_no_less_than_april() -> None:
    # Regression: with India taking 1 / w_f (about 67) times each partner's headroom, the
    # 12-month embargo on India was never short. Same seed, draws and horizon (36 months) as
    # the April 2025 controls; both presets' own seed.
    physical = {}
    for name in ("china-embargo-full", "china-2025-april"):
        scenario = with_overrides(load_scenario(name), draws=20)
        scalars = draw_scalars(run(scenario).results)
        physical[name] = scalars["cumulative_physical_t"].sum("sector").to_numpy()
    embargo, april = physical["china-embargo-full"], physical["china-2025-april"]
    assert (embargo > 1.0).all()
    assert (embargo >= april).all()
