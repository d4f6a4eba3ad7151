"""`impact pr`: evaluate a pull request's base and head, diff them exactly, write report.md and report.json."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from impact.cli._app import JsonOption, app, emit
from impact.cli.eval import MemoryOption, NixosOption, StoreOption, SystemOption, TimeoutOption, make_limits, make_nix
from impact.errors import InputError

if TYPE_CHECKING:
    from impact.analysis.pr import PrReport

HydraBaseOption = Annotated[
    Path | None,
    typer.Option("--hydra-base", help="Hydra's builds of the base evaluation (JSON of /eval/<id>/builds, or CSV)."),
]
HydraHeadOption = Annotated[
    Path | None, typer.Option("--hydra-head", help="Hydra's builds of the head evaluation (JSON or CSV).")
]


@dataclass(frozen=True)
class PrRequest:
    """What `impact pr` was asked: the two sides, how to evaluate them, and Hydra's builds when given."""

    base: str
    head: str
    repo: Path = Path(".")
    base_branch: str = "master"
    systems: tuple[str, ...] = ("x86_64-linux",)
    nixos: bool = False
    store: str | None = None
    timeout: float = 3600.0
    memory: str = "8G"
    hydra_base: Path | None = None
    hydra_head: Path | None = None

    @property
    def command(self) -> str:
        """The command line that reproduces the report: every option that was used."""
        from impact.render.formats import reproduce_command

        return reproduce_command(
            "pr",
            [self.base, self.head],
            [
                ("--system", self.systems),
                ("--nixos", self.nixos),
                ("--repo", self.repo if self.repo != Path(".") else None),
                ("--base-branch", self.base_branch if self.base_branch != "master" else None),
                ("--store", self.store),
                ("--timeout", f"{self.timeout:g}" if self.timeout != 3600.0 else None),
                ("--memory", self.memory if self.memory != "8G" else None),
                ("--hydra-base", self.hydra_base),
                ("--hydra-head", self.hydra_head),
            ],
        )


def pr_from_request(request: PrRequest) -> PrReport:
    """Read Hydra's builds (first: a bad file fails fast), evaluate or load both sides, and make the report."""
    from impact.analysis.hydra import compare_builds
    from impact.analysis.pr import pr_report
    from impact.cli._sides import side_graph
    from impact.loaders.hydra_builds import load_hydra_builds

    if (request.hydra_base is None) != (request.hydra_head is None):
        raise InputError("--hydra-base and --hydra-head go together", tip="give both evaluations' builds, or neither")
    hydra = None
    if request.hydra_base and request.hydra_head:
        hydra = compare_builds(
            load_hydra_builds(request.hydra_base),
            load_hydra_builds(request.hydra_head),
            base_label=request.hydra_base.name,
            head_label=request.hydra_head.name,
        )
    limits = make_limits(request.timeout, request.memory)
    systems = list(request.systems)
    with tempfile.TemporaryDirectory(prefix="impact-pr-") as tmp:
        work = Path(tmp)
        nix = functools.cache(lambda: make_nix(request.store))
        base = side_graph(request.base, request.repo, work, "base", nix, systems, request.nixos, limits)
        head = side_graph(request.head, request.repo, work, "head", nix, systems, request.nixos, limits)
    return pr_report(base, head, request.command, base_branch=request.base_branch, hydra=hydra)


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
    hydra_base: HydraBaseOption = None,
    hydra_head: HydraHeadOption = None,
    json: JsonOption = False,
) -> None:
    """Evaluate base and head, diff them by output paths, and write the PR comment (report.md) and report.json."""
    from impact.evaluate import write_atomic
    from impact.render.json import dumps
    from impact.render.pr import pr_markdown, pr_summary

    systems = tuple(system or ["x86_64-linux"])
    request = PrRequest(base, head, repo, base_branch, systems, nixos, store, timeout, memory, hydra_base, hydra_head)
    report = pr_from_request(request)
    data = dumps(report.to_dict())
    write_atomic(output / "report.md", pr_markdown(report).encode())
    write_atomic(output / "report.json", (data + "\n").encode())
    emit(data if json else f"wrote {output / 'report.md'} and {output / 'report.json'}: {pr_summary(report)}")
