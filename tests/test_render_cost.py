"""Rendering the cost: every output that uses the default model says so and carries its assumptions."""

from __future__ import annotations

from impact.analysis.cost import DurationMatch, change_cost
from impact.loaders.durations import DurationRecord
from impact.render.cost import cost_compare_markdown, cost_compare_text, cost_markdown, cost_text, hours
from tests.test_cost import DIAMOND, LINUX, make_graph


def _costs():
    g = make_graph(DIAMOND)
    model = change_cost(g, range(len(g)), change="all", machines=1, cores=2)
    # A record for every derivation: nothing left to the model.
    records = {
        g.drv_paths[i]: DurationRecord(seconds=60.0 * (i + 1), drv_path=g.drv_paths[i], system=LINUX)
        for i in range(len(g))
    }
    match = DurationMatch(
        by_drv=records, by_job={}, by_name={}, by_package={}, records=len(records), origins=("x.csv",)
    )
    data = change_cost(g, range(len(g)), change="all", match=match, machines=1, cores=2)
    return model, data


def test_hours() -> None:
    assert [hours(0), hours(0.04), hours(1.25), hours(1234.4)] == ["0.0 h", "2.4 min", "1.2 h", "1,234 h"]


def test_model_answers_are_labelled() -> None:
    model, _ = _costs()
    text = cost_text(model)
    assert "estimate: default model, no build times given" in text
    assert "Assumptions (an estimate, not a measurement):" in text
    assert "any other derivation: an assumed median package build: 5 min" in text
    md = cost_markdown(model)
    assert "> **An estimate:** default model, no build times given" in md
    assert (
        md.index("<details><summary>Assumptions</summary>") < md.index("median package build") < md.index("</details>")
    )
    assert f"| CPU-hours | {hours(5 * 300 / 3600)} | **{hours(5 * 300 / 3600)}** |" in md


def test_data_answers_are_not_labelled_estimates() -> None:
    _, data = _costs()
    assert not data.uses_model and data.known_derivations == 5 and data.known_share_of_time == 1
    text = cost_text(data)
    assert "build times from data" in text and "an estimate" not in text
    assert "median package build" not in text
    # 5 of 5 derivations, 100% of the CPU-hours.
    assert "known from data: 5 of 5 derivations (100%), 100% of the CPU-hours" in text
    assert "estimate" not in cost_markdown(data).lower()


def test_side_by_side() -> None:
    model, data = _costs()
    text = cost_compare_text({"model": model, "data": data})
    header = next(line for line in text.splitlines() if line.strip().startswith("model"))
    assert header.split() == ["model", "data"]
    for row in ("CPU-hours", "critical path", "farm time", "known from data"):
        assert row in text
    assert "Assumptions (an estimate" in text
    md = cost_compare_markdown({"model": model, "data": data})
    assert "| | `model` | `data` |" in md and "<details><summary>Assumptions</summary>" in md


def test_nothing_to_build() -> None:
    g = make_graph(DIAMOND)
    cost = change_cost(g, [], change="none")
    assert (cost.derivations, cost.estimate.cpu_hours, cost.estimate.farm_hours) == (0, 0, 0)
    assert cost_text(cost) == "Cost: nothing to build.\n"
    assert "Nothing to build." in cost_markdown(cost)
    assert cost.farm.describe() == "no machines"
