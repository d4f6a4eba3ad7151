"""Rendering the cost of a change: a text section, a side-by-side comparison, a Markdown section, a dict.

Every rendering that shows a number from the default model says so and lists the model's assumptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from impact.analysis.cost import ChangeCost, Scenario
from impact.render.escape import code_span, inline_text
from impact.render.text import table

#: Derivations of the critical path shown before the rest are elided.
MAX_PATH_SHOWN = 8


def hours(value: float) -> str:
    """Hours as people read them: `0.4 h`, `12.5 h`, `1,204 h`."""
    if value >= 100:
        return f"{value:,.0f} h"
    return f"{value:.1f} h" if value >= 0.05 or value == 0 else f"{value * 60:.1f} min"


def _share(part: float, whole: float) -> str:
    if not whole:
        return "-"
    share = 100 * part / whole
    return f"{share:.1f}%" if 0 < share < 1 else f"{share:.0f}%"


def cost_dict(cost: ChangeCost) -> dict[str, Any]:
    """The cost as a JSON-ready dictionary (the `cost` key of `--json` answers)."""
    return cost.to_dict()


def _label(cost: ChangeCost) -> str:
    if not cost.duration_files:
        return "estimate: default model, no build times given"
    if cost.uses_model:
        return "build times from data where known, default model elsewhere"
    return "build times from data"


def _path_line(scenario: Scenario) -> str:
    names = [f"{s.name} ({_short(s.seconds)})" for s in scenario.critical_path]
    if len(names) > MAX_PATH_SHOWN:
        names = [
            *names[: MAX_PATH_SHOWN // 2],
            f"… {len(names) - MAX_PATH_SHOWN} more …",
            *names[-MAX_PATH_SHOWN // 2 :],
        ]
    return " → ".join(names)


def _short(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def _busy(scenario: Scenario) -> str:
    return ", ".join(f"{100 * u:.0f}% {s}" for s, u in scenario.utilisation.items())


def _known_line(cost: ChangeCost) -> str:
    if not cost.duration_files:
        return f"known from data: 0 of {cost.derivations:,} derivations (no --durations given)"
    rec = cost.records
    return (
        f"known from data: {cost.known_derivations:,} of {cost.derivations:,} derivations "
        f"({_share(cost.known_derivations, cost.derivations)}), "
        f"{_share(cost.known_share_of_time, 1)} of the CPU-hours; "
        f"{rec.get('records', 0):,} build records read, {rec.get('cached_ignored', 0):,} cached (zero-time) and "
        f"{rec.get('failed_ignored', 0):,} failed builds ignored"
        + (f", {rec['untimed_ignored']:,} results without times" if rec.get("untimed_ignored") else "")
    )


def _systems(cost: ChangeCost) -> list[str]:
    return [s for s in cost.estimate.cpu_hours_by_system if s != "builtin"]


def cost_text(cost: ChangeCost) -> str:
    """The cost section of `impact estimate --cost`: CPU-hours per system, critical path, farm time."""
    if not cost.derivations:
        return "Cost: nothing to build.\n"
    systems = _systems(cost)
    header = ["", *systems, "total"]
    est = cost.estimate
    rows: list[list[object]] = [
        ["CPU-hours", *(hours(est.cpu_hours_by_system[s]) for s in systems), hours(est.cpu_hours)]
    ]
    if cost.duration_files and cost.uses_model:
        mo = cost.model_only
        rows.append(
            [
                "  default model alone",
                *(hours(mo.cpu_hours_by_system.get(s, 0.0)) for s in systems),
                hours(mo.cpu_hours),
            ]
        )
        rows.append(["  records alone", *([None] * len(systems)), hours(cost.data_only_cpu_hours)])
    lines = [f"Cost ({_label(cost)})", table(rows, header), ""]
    timing: list[list[str]] = [
        ["critical path", hours(est.critical_path_hours), f"{len(est.critical_path)} derivations in a chain"],
        ["farm time", hours(est.farm_hours), f"on {cost.farm.describe()}; slots busy {_busy(est)}"],
    ]
    if cost.duration_files and cost.uses_model:
        timing[0][2] += f"; model alone {hours(cost.model_only.critical_path_hours)}"
        timing[1][2] += f"; model alone {hours(cost.model_only.farm_hours)}"
    width = max(len(r[1]) for r in timing)
    lines += [f"{r[0]:<14}{r[1]:>{width}}  {r[2]}" for r in timing]
    lines.append("  " + _path_line(est))
    lines.append(_known_line(cost))
    lines.append("")
    lines.extend(_assumption_lines(cost))
    return "\n".join(lines) + "\n"


def _assumption_lines(cost: ChangeCost, bullet: str = "  - ") -> list[str]:
    title = "Assumptions (an estimate, not a measurement):" if cost.uses_model else "Assumptions:"
    return [title, *(bullet + a for a in cost.assumptions)]


def cost_compare_text(costs: Mapping[str, ChangeCost]) -> str:
    """Several changes' costs side by side: one column per change."""
    names = list(costs)
    header = ["", *names]
    systems: list[str] = []
    for c in costs.values():
        systems.extend(s for s in _systems(c) if s not in systems)
    rows: list[list[object]] = [["derivations to build", *(c.derivations for c in costs.values())]]
    rows.append(["CPU-hours", *(hours(c.estimate.cpu_hours) for c in costs.values())])
    for s in systems:
        rows.append(
            [
                f"  {s}",
                *(
                    hours(c.estimate.cpu_hours_by_system[s]) if s in c.estimate.cpu_hours_by_system else None
                    for c in costs.values()
                ),
            ]
        )
    rows.append(["critical path", *(hours(c.estimate.critical_path_hours) for c in costs.values())])
    rows.append(["farm time", *(hours(c.estimate.farm_hours) for c in costs.values())])
    if any(c.duration_files and c.uses_model for c in costs.values()):
        rows.append(["CPU-hours, model alone", *(hours(c.model_only.cpu_hours) for c in costs.values())])
        rows.append(["farm time, model alone", *(hours(c.model_only.farm_hours) for c in costs.values())])
    rows.append(["known from data", *(_share(c.known_derivations, c.derivations) for c in costs.values())])
    first = next(iter(costs.values()))
    farms = {c.farm.describe(systems=False) for c in costs.values()}
    farm = farms.pop() if len(farms) == 1 else "; ".join(f"{n}: {c.farm.describe()}" for n, c in costs.items())
    lines = [f"Cost ({_label(first)}; farm: {farm})", table(rows, header), ""]
    # Every change shares the farm and model; the assumptions of the one that used the most rules stand for all.
    widest = max(costs.values(), key=lambda c: (c.uses_model, len(c.model_rules)))
    lines.extend(_assumption_lines(widest))
    return "\n".join(lines) + "\n"


def cost_markdown(cost: ChangeCost, heading: str = "###") -> str:
    """A Markdown section for a PR comment: the cost table, the critical path, and the assumptions folded away."""
    if not cost.derivations:
        return f"{heading} Cost of the rebuild\n\nNothing to build.\n"
    systems = _systems(cost)
    est = cost.estimate
    lines = [f"{heading} Cost of the rebuild", ""]
    if cost.uses_model:
        reason = _label(cost).removeprefix("estimate: ")
        lines += [f"> **An estimate:** {reason}; the assumptions are below.", ""]
    lines += [
        "| | " + " | ".join(code_span(s, table=True) for s in systems) + " | total |",
        "| --- | " + " | ".join("---:" for _ in systems) + " | ---: |",
        "| CPU-hours | "
        + " | ".join(hours(est.cpu_hours_by_system[s]) for s in systems)
        + f" | **{hours(est.cpu_hours)}** |",
    ]
    if cost.duration_files and cost.uses_model:
        mo = cost.model_only
        lines.append(
            "| default model alone | "
            + " | ".join(hours(mo.cpu_hours_by_system.get(s, 0.0)) for s in systems)
            + f" | {hours(mo.cpu_hours)} |"
        )
    lines += [
        "",
        f"- **Critical path:** {hours(est.critical_path_hours)}, {len(est.critical_path)} derivations: "
        f"{inline_text(_path_line(est))}",
        f"- **Farm time:** {hours(est.farm_hours)} on {inline_text(cost.farm.describe())} (list-scheduling simulation)",
        f"- {_known_line(cost)[0].upper()}{_known_line(cost)[1:]}",
        "",
        "<details><summary>Assumptions</summary>",
        "",
        *(f"- {a}" for a in cost.assumptions),
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"


def cost_compare_markdown(costs: Mapping[str, ChangeCost], heading: str = "###") -> str:
    """Several changes' costs side by side as a Markdown table."""
    names: Sequence[str] = list(costs)
    values = list(costs.values())
    lines = [
        f"{heading} Cost of the rebuilds",
        "",
        "| | " + " | ".join(code_span(n, table=True) for n in names) + " |",
        "| --- | " + " | ".join("---:" for _ in names) + " |",
        "| derivations to build | " + " | ".join(f"{c.derivations:,}" for c in values) + " |",
        "| CPU-hours | " + " | ".join(hours(c.estimate.cpu_hours) for c in values) + " |",
        "| critical path | " + " | ".join(hours(c.estimate.critical_path_hours) for c in values) + " |",
        "| farm time | " + " | ".join(hours(c.estimate.farm_hours) for c in values) + " |",
        "| known from data | " + " | ".join(_share(c.known_derivations, c.derivations) for c in values) + " |",
        "",
        "<details><summary>Assumptions</summary>",
        "",
        *(f"- {a}" for a in max(values, key=lambda c: (c.uses_model, len(c.model_rules))).assumptions),
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"
