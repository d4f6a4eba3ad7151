"""`impact post`: put a report made by `impact pr` on a GitHub pull request (sticky comment and labels)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from impact.cli._app import JsonOption, app, emit
from impact.errors import InputError


@app.command()
def post(
    pr: Annotated[int | None, typer.Option("--pr", help="The pull request number.", show_default=False)] = None,
    report: Annotated[
        Path,
        typer.Option(
            "--report", help="The folder holding report.md and report.json (from `impact pr`), or a report.md."
        ),
    ] = Path("."),
    pr_file: Annotated[
        Path | None,
        typer.Option(
            "--pr-file",
            help="Read the pull request number from this file (a plain integer), e.g. report/pr-number from the eval "
            "job's artifact.",
            show_default=False,
        ),
    ] = None,
    head_sha: Annotated[
        str | None,
        typer.Option(
            "--head-sha",
            help="Post only if the report's head-sha file and the pull request's head commit on GitHub are both this "
            "commit.",
            show_default=False,
        ),
    ] = None,
    repo: Annotated[
        str | None,
        typer.Option("--repo", help="The repository, owner/name. Default: $GITHUB_REPOSITORY.", show_default=False),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="The GitHub API base URL. Default: $GITHUB_API_URL, else https://api.github.com.",
            show_default=False,
        ),
    ] = None,
    token_env: Annotated[
        str, typer.Option("--token-env", help="The environment variable holding the token.")
    ] = "GITHUB_TOKEN",
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label", help="A label to set (repeatable); default: the labels in report.json.", show_default=False
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Post the report on a pull request: one comment edited in place, labels added, stale 10.rebuild-* removed."""
    from impact.github import DEFAULT_API_URL, GitHub, check_token, post_report
    from impact.render.json import dumps
    from impact.writing import read_report

    token = os.environ.get(token_env, "")
    if not token:
        raise InputError(
            f"${token_env} is not set: no token to post with",
            tip="in GitHub Actions, pass env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
        )
    check_token(token, f"${token_env}")
    repo = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repo or not _REPO.fullmatch(repo):
        raise InputError(
            f"no repository to post to ({repo[:100] if repo else 'none given'!r})",
            tip="pass --repo owner/name or set $GITHUB_REPOSITORY",
        )
    if (pr is None) == (pr_file is None):
        raise InputError(
            "give the pull request as --pr N or as --pr-file FILE (one of them)",
            tip="in a workflow_run workflow, pass --pr-file report/pr-number",
        )
    if pr_file is not None:
        pr = _read_pr_number(pr_file)
    assert pr is not None
    md_file = report / "report.md" if report.is_dir() else report
    json_file = md_file.with_name("report.json")
    if head_sha is not None:
        _check_report_head(md_file.with_name("head-sha"), head_sha)
    markdown, data = read_report(report, need_json=True if label is None else None)
    labels = list(label) if label is not None else _report_labels(data, json_file)
    github = GitHub(repo=repo, token=token, api_url=api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)
    result = post_report(github, pr, markdown, labels, head_sha=head_sha)
    if json:
        emit(dumps({"repo": repo, "pr": pr, **result.to_dict()}))
        return
    change = [*(f"+{n}" for n in result.labels_added), *(f"-{n}" for n in result.labels_removed)]
    emit(
        f"{result.comment_action} comment {result.comment_id} on {repo}#{pr}"
        + (f"; labels {' '.join(change)}" if change else "; labels unchanged")
    )


# A report can come from a workflow that ran a fork's code (docs/pr-bot.md): what it says is checked, not trusted.
_PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}\n?")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\.\.?$)[A-Za-z0-9_.-]{1,100}")


def _read_small(path: Path, what: str) -> str:
    """The text of a file that must hold a few bytes of ASCII (an untrusted artifact's)."""
    from impact.loaders._io import open_regular

    try:
        with os.fdopen(open_regular(path), "rb") as f:
            raw = f.read(129)
    except InputError as e:
        raise InputError(f"cannot read {what}: {e}", tip="the eval job writes it into the report artifact") from None
    if len(raw) > 128 or not raw.isascii():
        raise InputError(f"{path}: not {what}", tip="the report artifact is damaged or forged; nothing posted")
    return raw.decode("ascii")


def _read_pr_number(path: Path) -> int:
    """The pull request number in `path`: a plain positive integer, at most one trailing newline."""
    text = _read_small(path, "a pull request number")
    if not _PR_NUMBER.fullmatch(text):
        raise InputError(
            f"{path}: {text.strip()[:40]!r} is not a pull request number",
            tip="the file must hold a plain integer; nothing posted",
        )
    return int(text)


def _check_report_head(path: Path, head_sha: str) -> None:
    """Refuse a report whose `head-sha` file is missing or names another commit than `head_sha`."""
    if not _SHA.fullmatch(head_sha):
        raise InputError(
            f"--head-sha {head_sha[:80]!r} is not a commit SHA",
            tip="pass the full hex SHA, e.g. ${{ github.event.workflow_run.head_sha }}",
        )
    text = _read_small(path, "a commit SHA").strip()
    if text != head_sha:
        raise InputError(
            f"{path}: the report is for commit {text[:64]!r}, not {head_sha}; nothing posted",
            tip="the artifact belongs to another run or was altered",
        )


def _report_labels(data: object, path: Path) -> list[str]:
    """The labels of report.json: only `10.rebuild-*` names, which is all `impact pr` writes."""
    from impact.github import REBUILD_LABEL_PREFIX

    labels = data.get("labels", []) if isinstance(data, dict) else None
    if not isinstance(labels, list) or not all(
        isinstance(n, str) and n.startswith(REBUILD_LABEL_PREFIX) for n in labels
    ):
        raise InputError(
            f"{path}: labels must be a list of {REBUILD_LABEL_PREFIX}* names",
            tip="regenerate the report with `impact pr`, or pass --label",
        )
    return list(labels)
