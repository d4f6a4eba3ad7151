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


@app.command()
def pr(
    base: Annotated[str, typer.Argument(help="The base: a git ref of --repo, a nixpkgs checkout, or a snapshot.")],
    head: Annotated[str, typer.Argument(help="The head: a git ref of --repo, a nixpkgs checkout, or a snapshot.")],
    repo: Annotated[Path, typer.Option("--repo", help="The git repository refs are taken from.")] = Path("."),
    output: Annotated[
        str, typer.Option("--output", "-o", help="The folder to write report.md and report.json to.")
    ] = ".",
    base_branch: Annotated[
        str, typer.Option("--base-branch", help="The branch the pull request targets (for the branch advice).")
    ] = "master",
    system: SystemOption = None,
    nixos: NixosOption = False,
    store: StoreOption = None,
    timeout: TimeoutOption = 3600.0,
    memory: MemoryOption = "8G",
    json: JsonOption = False,
) -> None:
    """Evaluate base and head, diff them by output paths, and write the PR comment (report.md) and report.json."""
    from impact.analysis.pr import pr_report
    from impact.render.json import dumps
    from impact.render.pr import pr_markdown
    from impact.writing import check_output_folder, write_report

    systems = system or ["x86_64-linux"]
    command = " ".join(
        [
            "impact pr",
            base,
            head,
            *(f"--system {s}" for s in systems),
            *(["--nixos"] if nixos else []),
            *([f"--base-branch {base_branch}"] if base_branch != "master" else []),
        ]
    )
    folder = check_output_folder(output)
    limits = make_limits(timeout, memory)
    with tempfile.TemporaryDirectory(prefix="impact-pr-") as tmp:
        work = Path(tmp)
        nix = functools.cache(lambda: make_nix(store))
        base_graph = side_graph(base, repo, work, "base", nix, systems, nixos, limits)
        head_graph = side_graph(head, repo, work, "head", nix, systems, nixos, limits)
    report = pr_report(base_graph, head_graph, command, base_branch=base_branch)
    data = report.to_dict()
    write_report(folder, pr_markdown(report), data)
    if json:
        emit(dumps(data))
        return
    d = report.diff
    emit(
        f"wrote {folder / 'report.md'} and {folder / 'report.json'}: "
        + ", ".join(f"{len(d.changed.get(js, ())):,} {js} jobs rebuilt" for js in d.jobsets)
        + f", {d.derivations_to_build:,} derivations to build; branch {report.branch.target}; "
        + f"labels: {', '.join(report.labels) or 'none'}; cross-check {'agrees' if d.agrees else 'DISAGREES'}"
    )
