"""`impact post`: put a report made by `impact pr` on a GitHub pull request (sticky comment and labels)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from impact import app as service
from impact.cli._app import JsonOption, app, emit
from impact.render.formats import Format, render_post

PrOption = Annotated[int | None, typer.Option("--pr", help="The pull request number.", show_default=False)]
ReportOption = Annotated[
    Path,
    typer.Option(
        "--report",
        help="The folder holding report.json (from `impact pr`), or report.json itself: the comment is rendered "
        "from its data and the labels computed from its numbers.",
    ),
]
PrFileOption = Annotated[
    Path | None,
    typer.Option(
        "--pr-file",
        help="Read the pull request number from this file (a plain integer), e.g. report/pr-number from the eval "
        "job's artifact.",
        show_default=False,
    ),
]
HeadShaOption = Annotated[
    str | None,
    typer.Option(
        "--head-sha",
        help="Post only if the report's head-sha file and the pull request's head commit on GitHub are both this "
        "commit.",
        show_default=False,
    ),
]
RepoOption = Annotated[
    str | None,
    typer.Option("--repo", help="The repository, owner/name. Default: $GITHUB_REPOSITORY.", show_default=False),
]
ApiUrlOption = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help="The GitHub API base URL. Default: $GITHUB_API_URL, else https://api.github.com.",
        show_default=False,
    ),
]
TokenEnvOption = Annotated[str, typer.Option("--token-env", help="The environment variable holding the token.")]
LabelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--label",
        help="A label to set (repeatable; one of the 10.rebuild-* labels impact sets). "
        "Default: those the report's numbers earn.",
        show_default=False,
    ),
]


@app.command()
def post(
    pr: PrOption = None,
    report: ReportOption = Path("."),
    pr_file: PrFileOption = None,
    head_sha: HeadShaOption = None,
    repo: RepoOption = None,
    api_url: ApiUrlOption = None,
    token_env: TokenEnvOption = "GITHUB_TOKEN",
    label: LabelOption = None,
    json: JsonOption = False,
) -> None:
    """Post the report on a pull request: one comment edited in place, labels added, stale 10.rebuild-* removed.

    The comment is rendered from report.json's data, checked field by field; report.md is never posted as it is.
    """
    labels = tuple(label) if label is not None else None
    request = service.PostRequest(pr, report, pr_file, head_sha, repo, api_url, token_env, labels)
    emit(render_post(Format.json if json else Format.text, service.post(request, os.environ)))
