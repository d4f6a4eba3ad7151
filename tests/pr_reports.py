"""Real reports of `impact pr` for the bot's tests: two small evaluations, written as `impact pr` writes them.

    BASE: libfoo-1.0, app-1 (takes libfoo), tool-1 (maintained by alice), on `system`
    HEAD: libfoo-1.1 (edited), so app rebuilds; tool unchanged

Two packages rebuild on Linux: the report earns `10.rebuild-linux: 1-10` (darwin is not evaluated).
"""

from __future__ import annotations

from pathlib import Path

from impact.analysis.pr import pr_report
from impact.model import Derivation, DerivationGraph, Job
from impact.render.pr import pr_files
from impact.writing import write_report

SYS = "x86_64-linux"
#: The labels the report earns.
LABELS = ["10.rebuild-linux: 1-10"]


def evaluations(name: str = "libfoo", system: str = SYS, maintainer: str = "alice") -> tuple[DerivationGraph, ...]:
    """BASE and HEAD of the module docstring; `name`, `system` and `maintainer` may be any text (the tree's)."""

    def drv(key: str, label: str, inputs: tuple[Derivation, ...] = ()) -> Derivation:
        return Derivation(
            path=f"/nix/store/{key.ljust(32, 'a')}-{key}.drv",
            name=label,
            system=system,
            outputs={"out": f"/nix/store/{key.ljust(32, 'o')}-{key}"},
            inputs={d.path: ("out",) for d in inputs},
        )

    def job(attr: str, d: Derivation) -> Job:
        return Job(f"{attr}.{system}", system, "nixpkgs", d.path, d.name, dict(d.outputs), maintainers=(maintainer,))

    graphs = []
    for side, version in (("base", "1.0"), ("head", "1.1")):
        lib = drv(f"l{version[-1]}", f"{name}-{version}")
        app = drv(f"a{version[-1]}", "app-1", (lib,))
        tool = drv("t0", "tool-1")
        graph = DerivationGraph.from_records(
            [lib, app, tool], [job(name, lib), job("app", app), job("tool", tool)], origin=side
        )
        graph.meta["label"] = side
        graphs.append(graph)
    return tuple(graphs)


def write_pr_report(folder: Path, *graphs: DerivationGraph, command: str = "impact pr base head") -> Path:
    """The report of `impact pr` on `graphs` (default: `evaluations()`), written into `folder`."""
    base, head = graphs or evaluations()
    markdown, data = pr_files(pr_report(base, head, command))
    write_report(folder, markdown, data)
    return folder
