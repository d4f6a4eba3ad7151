"""`impact pr`: evaluate a pull request's base and head, diff them exactly, write report.md and report.json."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import FailOnOption, JsonOption, app, emit
from impact.cli._complete import snapshot_names
from impact.cli.diff import RepoOption
from impact.cli.eval import (
    MemoryOption,
    NixosOption,
    Progress,
    StoreLimitOption,
    StoreOption,
    SystemOption,
    TimeoutOption,
    make_limits,
    make_nix,
)
from impact.render.formats import Format, render_pr
from impact.writing import check_output_folder, write_report

BaseArgument = Annotated[
    str,
    typer.Argument(
        metavar="BASE",
        autocompletion=snapshot_names,
        help="The base: a git ref of --repo, a nixpkgs checkout, a snapshot, or a shipped snapshot's name.",
    ),
]
HeadArgument = Annotated[
    str,
    typer.Argument(
        metavar="HEAD",
        autocompletion=snapshot_names,
        help="The head: a git ref of --repo, a nixpkgs checkout, a snapshot, or a shipped snapshot's name.",
    ),
]
OutputOption = Annotated[
    str, typer.Option("--output", "-o", metavar="FOLDER", help="The folder to write report.md and report.json to.")
]
BaseBranchOption = Annotated[
    str,
    typer.Option(
        "--base-branch", metavar="BRANCH", help="The branch the pull request targets (for the branch advice)."
    ),
]
HydraBaseOption = Annotated[
    Path | None,
    typer.Option("--hydra-base", help="Hydra's builds of the base evaluation (JSON of /eval/<id>/builds, or CSV)."),
]
BaseSnapshotOption = Annotated[
    Path | None,
    typer.Option(
        "--base-snapshot",
        metavar="NAME|FILE",
        help="BASE's evaluation (impact eval of BASE, or a shipped snapshot's name), read instead of evaluating"
        " BASE; both sides git refs.",
    ),
]
FullOption = Annotated[
    bool,
    typer.Option(
        "--full", help="Evaluate HEAD in full even when the git change is answered exactly (impact estimate --git)."
    ),
]
HydraHeadOption = Annotated[
    Path | None, typer.Option("--hydra-head", help="Hydra's builds of the head evaluation (JSON or CSV).")
]


@app.command()
def pr(
    base: BaseArgument,
    head: HeadArgument,
    repo: RepoOption = Path("."),
    output: OutputOption = ".",
    base_branch: BaseBranchOption = "master",
    system: SystemOption = None,
    nixos: NixosOption = False,
    store: StoreOption = None,
    timeout: TimeoutOption = 3600.0,
    memory: MemoryOption = "8G",
    store_limit: StoreLimitOption = "16G",
    hydra_base: HydraBaseOption = None,
    hydra_head: HydraHeadOption = None,
    fail_on: FailOnOption = None,
    base_snapshot: BaseSnapshotOption = None,
    full: FullOption = False,
    json: JsonOption = False,
) -> None:
    """Evaluate base and head (HEAD from the git change when exact), diff by output paths, write the PR comment."""
    from impact.render.pr import pr_files

    folder = check_output_folder(output)  # before evaluating: a bad -o fails at once
    request = service.PrRequest(
        service.EvaluationRequest(base, head, repo, tuple(system or ["x86_64-linux"]), nixos),
        base_branch=base_branch,
        store=store,
        timeout=timeout,
        memory=memory,
        store_limit=store_limit,
        hydra_base=hydra_base,
        hydra_head=hydra_head,
        fail_on=tuple(fail_on or ()),
        base_snapshot=base_snapshot,
        full=full,
    )
    nix = functools.cache(lambda: make_nix(store))
    report = service.pr(request, nix, make_limits(timeout, memory, store_limit), Progress)
    emit(render_pr(Format.json if json else Format.text, report, write_report(folder, *pr_files(report))))
    service.pr_fail_on(request, report)
