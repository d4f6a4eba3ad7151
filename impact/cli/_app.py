"""The Typer application and the options every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="impact",
    help="What a change to nixpkgs rebuilds, on which systems, why, and which branch takes it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SnapshotOption = Annotated[
    Path | None,
    typer.Option(
        "--snapshot",
        "-s",
        help="Snapshot to read: a .impact file, a snapshot folder (jobs.jsonl.gz + derivations.json.gz), "
        "show-derivation JSON, nix-eval-jobs lines or .drv files. Default: $IMPACT_SNAPSHOT, else the embedded "
        "nixpkgs master of 2016-06-24.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def emit(text: str) -> None:
    """Print a command's answer on standard output, ending in one newline."""
    typer.echo(text.rstrip("\n"))


@app.callback()
def _group() -> None:
    # A callback keeps the app a group of commands when `impact.cli.main` has registered only the one it runs.
    pass
