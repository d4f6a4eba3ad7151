"""`impact post`: put a report made by `impact pr` on a GitHub pull request (sticky comment and labels)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from impact.cli._app import JsonOption, app, emit
from impact.errors import InputError


@app.command()
def post(
    pr: Annotated[int, typer.Option("--pr", help="The pull request number.")],
    report: Annotated[Path, typer.Option("--report", help="The folder holding report.md and report.json (from `impact pr`), or a report.md.")] = Path("."),
    repo: Annotated[Optional[str], typer.Option("--repo", help="The repository, owner/name. Default: $GITHUB_REPOSITORY.", show_default=False)] = None,
    api_url: Annotated[Optional[str], typer.Option("--api-url", help="The GitHub API base URL. Default: $GITHUB_API_URL, else https://api.github.com.", show_default=False)] = None,
    token_env: Annotated[str, typer.Option("--token-env", help="The environment variable holding the token.")] = "GITHUB_TOKEN",
    label: Annotated[Optional[list[str]], typer.Option("--label", help="A label to set (repeatable); default: the labels in report.json.", show_default=False)] = None,
    json: JsonOption = False,
) -> None:
    """Post the report on a pull request: one comment edited in place, labels added, stale 10.rebuild-* removed."""
    from impact.github import DEFAULT_API_URL, GitHub, post_report
    from impact.loaders._io import parse_json
    from impact.render.json import dumps

    token = os.environ.get(token_env, "")
    if not token:
        raise InputError(f"${token_env} is not set: no token to post with", tip="in GitHub Actions, pass env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}")
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo or repo.count("/") != 1:
        raise InputError(f"no repository to post to ({repo or 'none given'})", tip="pass --repo owner/name or set $GITHUB_REPOSITORY")
    md_file = report / "report.md" if report.is_dir() else report
    json_file = md_file.with_name("report.json")
    try:
        markdown = md_file.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"{md_file}: cannot read the report ({e.strerror})", tip="run `impact pr` first; it writes report.md") from None
    labels = list(label or ())
    if label is None and json_file.is_file():
        labels = list(parse_json(json_file.read_text(encoding="utf-8"), str(json_file)).get("labels", []))
    github = GitHub(repo=repo, token=token, api_url=api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)
    result = post_report(github, pr, markdown, labels)
    if json:
        emit(dumps({"repo": repo, "pr": pr, **result.to_dict()}))
        return
    change = [*(f"+{n}" for n in result.labels_added), *(f"-{n}" for n in result.labels_removed)]
    emit(
        f"{result.comment_action} comment {result.comment_id} on {repo}#{pr}"
        + (f"; labels {' '.join(change)}" if change else "; labels unchanged")
    )
