"""`impact hydra-compare`: Hydra's build results of two evaluations — what newly fails, what newly succeeds."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import app, emit


class HydraFormat(str, Enum):
    """What `impact hydra-compare --format` prints."""

    text = "text"
    json = "json"
    markdown = "markdown"


FailOnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        metavar="VERDICT",
        help="Exit with code 3 (after the answer) when the verdict is this, for CI: breaks, restart, wait, or not-ok "
        "(any but ok). Repeatable.",
        show_default=False,
    ),
]
BuildsArgument = "Hydra builds of one evaluation: the JSON /eval/<id>/builds returns, or the builds table as CSV."


@app.command("hydra-compare")
def hydra_compare(
    base: Annotated[Path, typer.Argument(help="BASE: " + BuildsArgument, show_default=False)],
    head: Annotated[Path, typer.Argument(help="HEAD: " + BuildsArgument, show_default=False)],
    output_format: Annotated[
        HydraFormat, typer.Option("--format", help="text, json, or markdown (a PR comment section).")
    ] = HydraFormat.text,
    fail_on: FailOnOption = None,
) -> None:
    """Jobs that newly fail (and newly succeed) between two Hydra evaluations, with a verdict for backports.

    With --fail-on VERDICT the answer is printed, then the exit code is 3 if that is the verdict (for CI).
    """
    from impact.render.hydra import render_hydra

    request = service.HydraCompareRequest(base, head, tuple(fail_on or ()))
    comparison = service.hydra_compare(request)
    emit(render_hydra(comparison, output_format.value))
    service.hydra_fail_on(request, comparison)
