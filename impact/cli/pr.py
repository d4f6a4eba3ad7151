"""`impact pr`: evaluate a pull request's base and head, diff them exactly, write report.md and report.json."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, app, emit
from impact.cli._sides import side_graph
from impact.cli.eval import MemoryOption, NixosOption, StoreOption, SystemOption, TimeoutOption, make_limits, make_nix
from impact.errors import InputError


def _hydra(base: Path, head: Path):  # type: ignore[no-untyped-def]
    """Hydra's comparison of the two evaluations' builds (read before evaluating: a bad file fails fast)."""
    from impact.analysis.hydra import compare_builds
    from impact.loaders.hydra_builds import load_hydra_builds

    return compare_builds(load_hydra_builds(base), load_hydra_builds(head), base_label=base.name, head_label=head.name)


@app.command()
def pr(
    base: Annotated[str, typer.Argument(help="The base: a git ref of --repo, a nixpkgs checkout, or a snapshot.")],
    head: Annotated[str, typer.Argument(help="The head: a git ref of --repo, a nixpkgs checkout, or a snapshot.")],
    repo: Annotated[Path, typer.Option("--repo", help="The git repository refs are taken from.")] = Path("."),
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The folder to write report.md and report.json to.")
    ] = Path("."),
    base_branch: Annotated[
        str, typer.Option("--base-branch", help="The branch the pull request targets (for the branch advice).")
    ] = "master",
    system: SystemOption = None,
    nixos: NixosOption = False,
    store: StoreOption = None,
    timeout: TimeoutOption = 3600.0,
    memory: MemoryOption = "8G",
    hydra_base: Annotated[
        Path | None,
        typer.Option("--hydra-base", help="Hydra's builds of the base evaluation (JSON of /eval/<id>/builds, or CSV)."),
    ] = None,
    hydra_head: Annotated[
        Path | None, typer.Option("--hydra-head", help="Hydra's builds of the head evaluation (JSON or CSV).")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Evaluate base and head, diff them by output paths, and write the PR comment (report.md) and report.json."""
    from impact.analysis.pr import pr_report
    from impact.evaluate import write_atomic
    from impact.render.formats import reproduce_command
    from impact.render.json import dumps
    from impact.render.pr import pr_markdown

    if (hydra_base is None) != (hydra_head is None):
        raise InputError("--hydra-base and --hydra-head go together", tip="give both evaluations' builds, or neither")
    systems = system or ["x86_64-linux"]
    command = reproduce_command(
        "pr",
        [base, head],
        [
            ("--system", systems),
            ("--nixos", nixos),
            ("--repo", repo if repo != Path(".") else None),
            ("--base-branch", base_branch if base_branch != "master" else None),
            ("--store", store),
            ("--timeout", f"{timeout:g}" if timeout != 3600.0 else None),
            ("--memory", memory if memory != "8G" else None),
            ("--hydra-base", hydra_base),
            ("--hydra-head", hydra_head),
        ],
    )
    hydra = _hydra(hydra_base, hydra_head) if hydra_base and hydra_head else None
    limits = make_limits(timeout, memory)
    with tempfile.TemporaryDirectory(prefix="impact-pr-") as tmp:
        work = Path(tmp)
        nix = functools.cache(lambda: make_nix(store))
        base_graph = side_graph(base, repo, work, "base", nix, systems, nixos, limits)
        head_graph = side_graph(head, repo, work, "head", nix, systems, nixos, limits)
    report = pr_report(base_graph, head_graph, command, base_branch=base_branch, hydra=hydra)
    data = report.to_dict()
    write_atomic(output / "report.md", pr_markdown(report).encode())
    write_atomic(output / "report.json", (dumps(data) + "\n").encode())
    if json:
        emit(dumps(data))
        return
    d = report.diff
    emit(
        f"wrote {output / 'report.md'} and {output / 'report.json'}: "
        + ", ".join(f"{len(d.changed.get(js, ())):,} {js} jobs rebuilt" for js in d.jobsets)
        + f", {d.derivations_to_build:,} derivations to build; branch {report.branch.target}; "
        + f"labels: {', '.join(report.labels) or 'none'}; cross-check {'agrees' if d.agrees else 'DISAGREES'}"
        + (f"; Hydra: {report.hydra.verdict}" if report.hydra else "")
    )
