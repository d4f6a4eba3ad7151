"""What git says of an evaluated nixpkgs tree (its commit, branch and date), checked before it is kept.

`impact eval` records them in the snapshot folder's `eval.json` when the checkout is the top of a git work tree;
`impact diff` / `impact pr` record those of the ref they export. A snapshot may come from anyone, so what is
kept, and what a loader reads back, must pass the checks here: a commit is 40 lowercase hexadecimal digits, a
branch a plain ref name (`valid_branch`: ASCII letters, digits and `._+/-`, none of the forms git refuses), a
date `YYYY-MM-DD`. Anything else is dropped, never shown.

git runs without the repository's hooks and file-system monitor (`-c core.hooksPath=/dev/null -c
core.fsmonitor=false`), takes no optional locks, never prompts, and is bounded in time; a ref is passed after
`--end-of-options` (or not at all when it starts with `-`), so it is never an option.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
from pathlib import Path
from typing import TypeGuard

#: A full commit hash (SHA-1, as nixpkgs uses).
COMMIT = re.compile(r"[0-9a-f]{40}")
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+/-]{0,199}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Seconds any git command may take.
TIMEOUT = 60.0
#: The source keys a snapshot records, and what each must be.
KEYS = ("commit", "branch", "date", "modified")


def valid_commit(text: object) -> TypeGuard[str]:
    """True for a full commit hash: 40 lowercase hexadecimal digits."""
    return isinstance(text, str) and COMMIT.fullmatch(text) is not None


def valid_branch(text: object) -> TypeGuard[str]:
    """True for a branch name git accepts and that is safe to print anywhere: ASCII letters, digits and `._+/-`,
    starting with a letter or digit, at most 200 characters, and none of what `git check-ref-format` refuses
    (`..`, `//`, a component starting with `.` or ending in `.lock`, a trailing `/` or `.`)."""
    if not (isinstance(text, str) and _BRANCH.fullmatch(text)):
        return False
    parts = text.split("/")
    return (
        ".." not in text
        and not text.endswith((".", "/"))
        and all(p and not p.startswith(".") and not p.endswith(".lock") for p in parts)
        and text != "HEAD"
    )


def valid_date(text: object) -> TypeGuard[str]:
    """True for an ISO date, `YYYY-MM-DD`."""
    if not (isinstance(text, str) and _DATE.fullmatch(text)):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def checked(source: object) -> dict[str, str]:
    """The keys of `source` (a mapping read from a snapshot) that pass their check; the rest dropped."""
    if not isinstance(source, dict):
        return {}
    checks = {"commit": valid_commit, "branch": valid_branch, "date": valid_date}
    kept = {k: source[k] for k, check in checks.items() if check(source.get(k))}
    if source.get("modified") == "yes" and "commit" in kept:
        kept["modified"] = "yes"
    return kept


def git(repo: Path, *args: str) -> str | None:
    """`git -C repo ARGS` without hooks, monitor, locks or prompts: its standard output stripped, or None when
    git is missing, fails or takes longer than `TIMEOUT`."""
    command = ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-C", str(repo), *args]
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace").strip()


def names_commit(repo: Path, ref: str) -> bool:
    """True when `ref` names a commit of the git repository `repo` (False when `repo` is no repository)."""
    return (
        bool(ref) and git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}") is not None
    )


def _commit_date(repo: Path, commit: str) -> dict[str, str]:
    date = git(repo, "show", "-s", "--format=%cs", commit)
    return {"date": date} if valid_date(date) else {}


def checkout_source(checkout: Path) -> dict[str, str]:
    """Commit, branch and date of `checkout` when it is the top of a git work tree (`modified: yes` when its
    files differ from that commit); empty otherwise. Only values that pass the checks are returned."""
    checkout = checkout.resolve()
    top = git(checkout, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != checkout:
        return {}
    commit = git(checkout, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not valid_commit(commit):
        return {}
    source = {"commit": commit, **_commit_date(checkout, commit)}
    branch = git(checkout, "symbolic-ref", "--quiet", "--short", "HEAD")
    if valid_branch(branch):
        source["branch"] = branch
    if git(checkout, "status", "--porcelain", "--untracked-files=normal"):
        source["modified"] = "yes"
    return source


def ref_source(repo: Path, ref: str, commit: str) -> dict[str, str]:
    """Commit, date and (when `ref` is a branch, local or remote) branch of the ref `impact diff` / `pr` exported."""
    if not valid_commit(commit):
        return {}
    source = {"commit": commit, **_commit_date(repo, commit)}
    # (`rev-parse --symbolic-full-name` takes no --end-of-options: a ref starting with `-` is never a branch.)
    full = "" if ref.startswith("-") else git(repo, "rev-parse", "--symbolic-full-name", ref) or ""
    for prefix in ("refs/heads/", "refs/remotes/"):
        if full.startswith(prefix):
            name = full.removeprefix(prefix)
            if prefix == "refs/remotes/":
                name = name.split("/", 1)[-1]  # origin/staging → staging
            if valid_branch(name):
                source["branch"] = name
    return source
