"""`impact hydra-compare`: Hydra's build results of two evaluations — what newly fails, what newly succeeds."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import app, emit


class HydraFormat(str, Enum):
    """What `impact hydra-compare --format` prints."""

    text = "text"
    json = "json"
    markdown = "markdown"


@dataclass(frozen=True)
class HydraCompareRequest:
    """Two evaluations' builds to compare, and how to print the answer."""

    base: Path
    head: Path
    output_format: HydraFormat = HydraFormat.text


BuildsArgument = "Hydra builds of one evaluation: the JSON /eval/<id>/builds returns, or the builds table as CSV."


@app.command("hydra-compare")
def hydra_compare(
    base: Annotated[Path, typer.Argument(help="BASE: " + BuildsArgument, show_default=False)],
    head: Annotated[Path, typer.Argument(help="HEAD: " + BuildsArgument, show_default=False)],
    output_format: Annotated[
        HydraFormat, typer.Option("--format", help="text, json, or markdown (a PR comment section).")
    ] = HydraFormat.text,
) -> None:
    """Jobs that newly fail (and newly succeed) between two Hydra evaluations, with a verdict for backports."""
    emit(run_hydra_compare(HydraCompareRequest(base, head, output_format)))


def run_hydra_compare(request: HydraCompareRequest) -> str:
    """Load both evaluations' builds, compare them, and render the answer."""
    from impact.analysis.hydra import compare_builds
    from impact.loaders.hydra_builds import load_hydra_builds
    from impact.render.hydra import render_hydra

    result = compare_builds(
        load_hydra_builds(request.base),
        load_hydra_builds(request.head),
        base_label=request.base.name,
        head_label=request.head.name,
    )
    return render_hydra(result, request.output_format.value)
