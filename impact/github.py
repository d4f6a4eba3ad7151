"""Posting a report on a GitHub pull request: one sticky comment and the `10.rebuild-*` labels.

Talks to the GitHub REST API with `urllib` from the standard library: five endpoints with JSON in and out
need no client library, the bot then installs nothing beyond impact in CI, and every byte that leaves or is
logged goes through one function here, which is what keeps the token out of output, logs and exception text.

- The comment is found by a hidden marker (`<!-- impact-report -->`) among the pull request's comments and
  edited in place; one is created only when none carries it, so reruns never duplicate it.
- Labels: the wanted ones are added, and `10.rebuild-*` labels that are no longer wanted are removed; other
  labels are left alone.
- Retries with exponential backoff on 5xx answers, network errors, and rate limits (429, or 403 with
  `X-RateLimit-Remaining: 0`), waiting as long as `Retry-After` or `X-RateLimit-Reset` asks (capped).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from impact.errors import ImpactError
from impact.render.markdown import GITHUB_COMMENT_LIMIT, MARKER

#: The labels impact owns: stale ones with this prefix are removed.
REBUILD_LABEL_PREFIX = "10.rebuild-"
#: The hidden marker that identifies impact's comment, and GitHub's comment limit, as the renderer uses them.
COMMENT_LIMIT = GITHUB_COMMENT_LIMIT
#: The default API base URL.
DEFAULT_API_URL = "https://api.github.com"

log = logging.getLogger("impact.github")


class GitHubError(ImpactError):
    """GitHub refused a request or could not be reached."""


@dataclass(frozen=True)
class PostResult:
    """What posting did."""

    #: `created` or `updated`.
    comment_action: str
    #: The comment's id and web address.
    comment_id: int
    comment_url: str
    #: Labels added and removed.
    labels_added: tuple[str, ...]
    labels_removed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "comment": {"action": self.comment_action, "id": self.comment_id, "url": self.comment_url},
            "labels": {"added": list(self.labels_added), "removed": list(self.labels_removed)},
        }


@dataclass
class GitHub:
    """A minimal GitHub REST client for one repository (`owner/name`)."""

    #: The repository, `owner/name`.
    repo: str
    #: The token (never printed: excluded from repr, and scrubbed from every message).
    token: str = field(repr=False)
    #: The API base URL (GitHub Enterprise, or a local test server).
    api_url: str = DEFAULT_API_URL
    #: How many times a request is retried after a retryable failure.
    retries: int = 5
    #: The first backoff in seconds; doubled on every retry.
    backoff: float = 1.0
    #: The longest single wait, in seconds, whatever GitHub asks.
    max_wait: float = 60.0
    #: Sleeps between retries (a parameter so tests need not wait).
    sleep: Callable[[float], None] = time.sleep
    #: Seconds per request before giving up on it.
    timeout: float = 30.0

    def _scrub(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request (retrying as the module says) and return the parsed JSON answer (None if empty)."""
        url = self.api_url.rstrip("/") + path
        data = json.dumps(body).encode() if body is not None else None
        what = f"{method} {path}"
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(url, data=data, method=method)
            req.add_header("Accept", "application/vnd.github+json")
            req.add_header("X-GitHub-Api-Version", "2022-11-28")
            req.add_header("User-Agent", "impact-pr-bot")
            req.add_header("Authorization", f"Bearer {self.token}")
            if data is not None:
                req.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as answer:
                    raw = answer.read()
                    log.debug("%s -> %s", what, answer.status)
                    return json.loads(raw) if raw.strip() else None
            except urllib.error.HTTPError as e:
                payload = e.read().decode("utf-8", "replace")
                log.debug("%s -> %s", what, e.code)
                wait = self._retry_wait(e.code, e.headers, attempt)
                if wait is None or attempt == self.retries:
                    raise self._error(what, e.code, payload) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                log.debug("%s -> %s", what, reason)
                if attempt == self.retries:
                    raise GitHubError(
                        self._scrub(f"cannot reach {self.api_url} for {what}: {reason}"),
                        tip="check the network and --api-url",
                    ) from None
                wait = self.backoff * 2**attempt
            log.debug("retrying %s in %.1f s", what, wait)
            self.sleep(min(wait, self.max_wait))
        raise AssertionError("unreachable")

    def _retry_wait(self, status: int, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the failure is final."""
        exponential = self.backoff * 2**attempt
        retry_after = headers.get("Retry-After") if headers else None
        rate_limited = status == 429 or (status == 403 and (retry_after or headers.get("X-RateLimit-Remaining") == "0"))
        if not (status >= 500 or rate_limited):
            return None
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after)
        reset = headers.get("X-RateLimit-Reset") if headers else None
        if rate_limited and reset and reset.strip().isdigit():
            return max(0.0, float(reset) - time.time()) + 1.0
        return exponential

    def _error(self, what: str, status: int, payload: str) -> GitHubError:
        try:
            message = json.loads(payload).get("message", "")
        except (json.JSONDecodeError, AttributeError):
            message = payload.strip()[:200]
        text = self._scrub(f"GitHub answered {status} to {what}: {message or 'no message'}")
        tips = {
            401: "the token is missing, expired or wrong: set GITHUB_TOKEN to a valid token",
            403: "the token lacks permissions: it needs pull-requests: write and issues: write",
            404: "check --repo (owner/name) and --pr, and that the token can see the repository",
        }
        return GitHubError(text, tip=tips.get(status))

    # -- the endpoints --------------------------------------------------------------------------------------

    def head_sha(self, pr: int) -> str:
        """The commit pull request `pr` currently ends at (its head SHA)."""
        answer = self.request("GET", f"/repos/{self.repo}/pulls/{pr}") or {}
        return str((answer.get("head") or {}).get("sha", ""))

    def comments(self, pr: int) -> list[dict[str, Any]]:
        """Every comment on pull request `pr` (all pages)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self.request("GET", f"/repos/{self.repo}/issues/{pr}/comments?per_page=100&page={page}") or []
            found += batch
            if len(batch) < 100:
                return found
            page += 1

    def upsert_comment(self, pr: int, body: str) -> tuple[str, dict[str, Any]]:
        """Edit the comment that carries the marker, or create it: (`updated`|`created`, the comment)."""
        mine = [c for c in self.comments(pr) if MARKER in (c.get("body") or "")]
        if mine:
            comment = self.request("PATCH", f"/repos/{self.repo}/issues/comments/{mine[0]['id']}", {"body": body})
            return "updated", comment
        return "created", self.request("POST", f"/repos/{self.repo}/issues/{pr}/comments", {"body": body})

    def sync_labels(self, pr: int, wanted: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Add the `wanted` labels and remove stale `10.rebuild-*` ones: (added, removed)."""
        want = list(dict.fromkeys(wanted))
        have = [
            label["name"] for label in self.request("GET", f"/repos/{self.repo}/issues/{pr}/labels?per_page=100") or []
        ]
        stale = [n for n in have if n.startswith(REBUILD_LABEL_PREFIX) and n not in want]
        for name in stale:
            self.request("DELETE", f"/repos/{self.repo}/issues/{pr}/labels/{urllib.parse.quote(name, safe='')}")
        missing = [n for n in want if n not in have]
        if missing:
            self.request("POST", f"/repos/{self.repo}/issues/{pr}/labels", {"labels": missing})
        return tuple(missing), tuple(stale)


def comment_body(markdown: str) -> str:
    """The comment text: the report with the marker first, cut to GitHub's limit with a visible note."""
    body = markdown if MARKER in markdown else f"{MARKER}\n{markdown}"
    if len(body) > COMMENT_LIMIT:
        note = "\n\n> **Note:** this report was cut to fit GitHub's comment limit; see report.md in the workflow run.\n"
        body = body[: COMMENT_LIMIT - len(note)] + note
    return body


def post_report(
    github: GitHub, pr: int, markdown: str, labels: Iterable[str], head_sha: str | None = None
) -> PostResult:
    """Put the report on pull request `pr`: the sticky comment, then the labels.

    With `head_sha`, nothing is posted unless the pull request still ends at that commit (the one evaluated):
    a report from a `workflow_run` names its pull request itself, and this is what ties it to the right one.
    """
    if head_sha is not None:
        actual = github.head_sha(pr)
        if actual != head_sha:
            raise GitHubError(
                f"{github.repo}#{pr} is at {actual or 'no commit'}, not at {head_sha}, the commit the report is for; nothing posted",
                tip="the pull request moved on (a newer run posts its report) or the report names the wrong pull request",
            )
    action, comment = github.upsert_comment(pr, comment_body(markdown))
    added, removed = github.sync_labels(pr, labels)
    return PostResult(
        comment_action=action,
        comment_id=int(comment.get("id", 0)),
        comment_url=str(comment.get("html_url", "")),
        labels_added=added,
        labels_removed=removed,
    )
