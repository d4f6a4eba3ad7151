"""Posting a report on a GitHub pull request: one sticky comment and the `10.rebuild-*` labels.

Talks to the GitHub REST API with `urllib` from the standard library: five endpoints with JSON in and out
need no client library, the bot then installs nothing beyond impact in CI, and every byte that leaves or is
logged goes through one function here, which is what keeps the token out of output, logs and exception text.

Trust boundaries (a pull request's author controls the tree evaluated and may write comments):
- The comment is found by a hidden marker (`<!-- impact-report -->`) among the comments the bot itself wrote
  (the token's login from `GET /user`, or `github-actions[bot]` for an Actions token, which may not ask) and
  edited in place; one is created only when none carries it, so reruns never duplicate it, and a marker
  planted in someone else's comment is ignored.
- The token is sent only to the API's own origin: a redirect elsewhere (another host, port or scheme) drops it.
- A token holding a newline or control character is refused before any request, without printing it.
- Each request has one deadline for the whole of it (connect, headers and body), not a timeout per read, so
  a server dribbling bytes cannot hold the command; answers are read up to a size limit.
- An answer that is not the JSON an endpoint returns (not JSON, `{}`, a list of the wrong things) is refused.
- Labels: only labels impact can set (`impact.analysis.labels.KNOWN_LABELS`, nixpkgs CI's `10.rebuild-*`):
  the wanted ones are added, the stale ones removed; other labels are left alone.
- The comment and the labels come from a report's data, checked field by field (`report_comment`): rendered
  here, never taken as Markdown from the job that evaluated the pull request.
- Retries with exponential backoff on 5xx answers, network errors, and rate limits (429, or 403 with
  `X-RateLimit-Remaining: 0`), waiting as long as `Retry-After` or `X-RateLimit-Reset` asks when that is
  within `max_wait`; past it, the rate limit is reported with its reset time.
"""

from __future__ import annotations

import datetime
import functools
import http.client
import io
import json
import logging
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact.analysis.labels import KNOWN_LABELS
from impact.errors import ImpactError, InputError
from impact.loaders.pr_report import PrComment
from impact.render.escape import close_open_blocks
from impact.render.markdown import GITHUB_COMMENT_LIMIT, MARKER

#: The hidden marker that identifies impact's comment, and GitHub's comment limit, as the renderer uses them.
COMMENT_LIMIT = GITHUB_COMMENT_LIMIT
#: The default API base URL.
DEFAULT_API_URL = "https://api.github.com"
#: Who writes the comment when the token is a GitHub Actions one (which may not call `GET /user`).
ACTIONS_BOT_LOGIN = "github-actions[bot]"
#: The most bytes read of one answer (a page of 100 comments of 65,536 characters is well under).
MAX_ANSWER_BYTES = 32 * 1024 * 1024
#: The most pages of comments read (100 a page).
MAX_COMMENT_PAGES = 100

log = logging.getLogger("impact.github")


class GitHubError(ImpactError):
    """GitHub refused a request or could not be reached."""

    def __init__(self, message: str, *, tip: str | None = None, status: int | None = None) -> None:
        super().__init__(message, tip=tip)
        #: The HTTP status GitHub answered, when it answered one.
        self.status = status


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


def check_token(token: str, where: str = "the token") -> str:
    """`token` itself when it can go in an HTTP header; else `InputError` that never shows the token."""
    if not token:
        raise InputError(f"{where} is empty: no token to post with")
    bad = next((c for c in token if ord(c) < 0x21 or ord(c) > 0x7E), None)
    if bad is not None:
        what = "a newline" if bad in "\r\n" else "a space" if bad == " " else "a control or non-ASCII character"
        raise InputError(
            f"{where} holds {what}; refusing to send it",
            tip="store the token alone, without a trailing newline (e.g. `printf %s TOKEN`)",
        )
    return token


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, carrying the token only to the origin it was meant for."""

    def __init__(self, token: str, origin: tuple[str, str, int | None]) -> None:
        self.token = token
        self.origin = origin

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.remove_header("Authorization")
            if _origin(new.full_url) == self.origin:
                new.add_unredirected_header("Authorization", f"Bearer {self.token}")
            else:
                log.debug("redirect to another origin: the token is not sent there")
        return new


class _DeadlineReader(socket.SocketIO):
    """Socket reads that all end by one deadline (the socket's timeout is set to the time left before each)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__(sock, "rb")
        self.deadline = deadline

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's deadline passed")
        self._sock.settimeout(left)  # type: ignore[attr-defined]
        return super().readinto(buffer) or 0


class _DeadlineSocket:
    """A socket whose reader (what http.client reads the answer through) keeps the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> io.BufferedReader:
        # As socket.makefile does: the socket stays open until this reader is closed too.
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _deadline_class(base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
    class Connection(base):  # type: ignore[valid-type,misc]
        deadline: float = 0.0

        def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.deadline = deadline
            self.timeout = max(0.001, deadline - time.monotonic())

        def connect(self) -> None:
            super().connect()
            self.sock = _DeadlineSocket(self.sock, self.deadline)  # type: ignore[assignment,has-type,arg-type]

    return Connection


_DeadlineHTTP = _deadline_class(http.client.HTTPConnection)
_DeadlineHTTPS = _deadline_class(http.client.HTTPSConnection)


class _DeadlineHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """Opens http and https connections whose every read ends by `deadline` (a `time.monotonic()` value)."""

    def __init__(self, deadline: float) -> None:
        urllib.request.HTTPHandler.__init__(self)
        urllib.request.HTTPSHandler.__init__(self)
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_DeadlineHTTP, deadline=self.deadline)  # type: ignore[call-arg]
        return self.do_open(connection, req)  # type: ignore[arg-type]

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = functools.partial(_DeadlineHTTPS, deadline=self.deadline)  # type: ignore[call-arg]
        return self.do_open(connection, req, context=self._context)  # type: ignore[arg-type,attr-defined]


class _Retry(Exception):
    def __init__(self, wait: float) -> None:
        self.wait = wait


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
    #: Seconds for the whole of one request (connect, send, headers and body) before giving up on it.
    timeout: float = 30.0
    #: The login whose comments are the bot's (default: the token's, from `GET /user`).
    login: str | None = None

    def __post_init__(self) -> None:
        check_token(self.token)
        if _origin(self.api_url)[0] not in ("http", "https") or not _origin(self.api_url)[1]:
            raise InputError(f"--api-url {self.api_url[:100]!r} is not an http(s) address")

    def _scrub(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request (retrying as the module says) and return the parsed JSON answer (None if empty)."""
        what = f"{method} {path.split('?', 1)[0]}"
        for attempt in range(self.retries + 1):
            try:
                return self._once(method, path, body, what, attempt)
            except _Retry as retry:
                log.debug("retrying %s in %.1f s", what, retry.wait)
                self.sleep(min(retry.wait, self.max_wait))
        raise AssertionError("unreachable")

    def _once(self, method: str, path: str, body: Any, what: str, attempt: int) -> Any:
        """One attempt at a request: its parsed answer, or `_Retry`, or `GitHubError`."""
        url = self.api_url.rstrip("/") + path
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", "impact-pr-bot")
        req.add_unredirected_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(
            _DeadlineHandler(time.monotonic() + self.timeout), _SameOriginRedirects(self.token, _origin(url))
        )
        try:
            with opener.open(req) as answer:
                raw = answer.read(MAX_ANSWER_BYTES + 1)
                log.debug("%s -> %s", what, answer.status)
                status = answer.status
        except urllib.error.HTTPError as e:
            try:
                payload = e.read(64 * 1024).decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                payload = ""
            log.debug("%s -> %s", what, e.code)
            wait = self._retry_wait(e.code, e.headers, attempt)
            if wait is None or attempt == self.retries or wait > self.max_wait:
                raise self._error(what, e.code, payload, e.headers) from None
            raise _Retry(wait) from None
        except TimeoutError:
            raise GitHubError(
                f"{self._scrub(self.api_url)} did not answer {what} within {self.timeout:g} s",
                tip="GitHub is slow or unreachable; run again later",
            ) from None
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, TimeoutError):
                raise GitHubError(
                    f"{self._scrub(self.api_url)} did not answer {what} within {self.timeout:g} s",
                    tip="GitHub is slow or unreachable; run again later",
                ) from None
            log.debug("%s -> %s", what, self._scrub(str(reason)))
            if attempt == self.retries:
                raise GitHubError(
                    self._scrub(f"cannot reach {self.api_url} for {what}: {reason}"),
                    tip="check the network and --api-url",
                ) from None
            raise _Retry(self.backoff * 2**attempt) from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise GitHubError(f"GitHub's answer to {what} is larger than {MAX_ANSWER_BYTES:,} bytes; refused")
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise GitHubError(
                f"GitHub answered {status} to {what} with something that is not JSON",
                tip="check --api-url: it must be the REST API (e.g. https://api.github.com)",
            ) from None

    def _retry_wait(self, status: int, headers: Any, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the failure is final."""
        exponential = self.backoff * 2**attempt
        if not (status >= 500 or _rate_limited(status, headers)):
            return None
        retry_after = headers.get("Retry-After") if headers else None
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after)
        reset = _reset_time(headers)
        if _rate_limited(status, headers) and reset is not None:
            return max(0.0, reset - time.time()) + 1.0
        return exponential

    def _error(self, what: str, status: int, payload: str, headers: Any = None) -> GitHubError:
        try:
            message = json.loads(payload).get("message", "")
        except (ValueError, AttributeError, RecursionError):
            message = payload.strip()[:200]
        message = " ".join(str(message).split())[:300]
        if _rate_limited(status, headers):
            reset = _reset_time(headers)
            retry_after = headers.get("Retry-After") if headers else None
            when = (
                datetime.datetime.fromtimestamp(reset, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                if reset is not None
                else f"in {retry_after.strip()} s"
                if retry_after and retry_after.strip().isdigit()
                else "at a time GitHub did not say"
            )
            return GitHubError(
                self._scrub(f"GitHub's rate limit stopped {what} ({status}); it resets {when}"),
                tip="run again after the reset, or use a token with a larger rate limit",
            )
        text = self._scrub(f"GitHub answered {status} to {what}: {message or 'no message'}")
        tips = {
            401: "the token is missing, expired or wrong: set GITHUB_TOKEN to a valid token",
            403: "the token lacks permissions: it needs pull-requests: write and issues: write",
            404: "check --repo (owner/name) and --pr, and that the token can see the repository",
        }
        return GitHubError(text, tip=tips.get(status), status=status)

    def _expect(self, answer: Any, kind: type, what: str, keys: tuple[str, ...] = ()) -> Any:
        """`answer` when it is a `kind` (holding `keys`); else `GitHubError` saying what was wrong."""
        if not isinstance(answer, kind) or (keys and not (isinstance(answer, dict) and all(k in answer for k in keys))):
            shape = "nothing" if answer is None else "{}" if answer == {} else type(answer).__name__
            wanted = "a list" if kind is list else "an object" + (f" with {', '.join(keys)}" if keys else "")
            raise GitHubError(
                f"GitHub's answer to {what} is {shape}, not {wanted}",
                tip="check --api-url: it must be the REST API (e.g. https://api.github.com)",
            )
        return answer

    # -- the endpoints --------------------------------------------------------------------------------------

    def bot_login(self) -> str:
        """The login the bot's comments carry: `login` if given, else the token's (`GET /user`); a GitHub
        Actions token may not ask (403/404), and then its comments are `github-actions[bot]`'s."""
        if self.login is None:
            try:
                user = self._expect(self.request("GET", "/user"), dict, "GET /user", ("login",))
                self.login = str(user["login"])
            except GitHubError as e:
                if e.status not in (403, 404):
                    raise
                self.login = ACTIONS_BOT_LOGIN
        return self.login

    def head_sha(self, pr: int) -> str:
        """The commit pull request `pr` currently ends at (its head SHA)."""
        what = f"GET /repos/{self.repo}/pulls/{pr}"
        answer = self._expect(self.request("GET", f"/repos/{self.repo}/pulls/{pr}"), dict, what, ("head",))
        head = answer["head"]
        return str(head.get("sha", "")) if isinstance(head, dict) else ""

    def comments(self, pr: int) -> list[dict[str, Any]]:
        """Every comment on pull request `pr` (all pages)."""
        found: list[dict[str, Any]] = []
        what = f"GET /repos/{self.repo}/issues/{pr}/comments"
        for page in range(1, MAX_COMMENT_PAGES + 1):
            batch = self.request("GET", f"/repos/{self.repo}/issues/{pr}/comments?per_page=100&page={page}")
            batch = self._expect([] if batch is None else batch, list, what)
            found += [c for c in batch if isinstance(c, dict)]
            if len(batch) < 100:
                break
        return found

    def upsert_comment(self, pr: int, body: str) -> tuple[str, dict[str, Any]]:
        """Edit the bot's own comment that carries the marker, or create it: (`updated`|`created`, the comment)."""
        login = self.bot_login()
        mine = [
            c
            for c in self.comments(pr)
            if isinstance(c.get("user"), dict)
            and c["user"].get("login") == login
            and isinstance(c.get("body"), str)
            and c["body"].startswith(MARKER)
            and isinstance(c.get("id"), int)
        ]
        if mine:
            path = f"/repos/{self.repo}/issues/comments/{mine[0]['id']}"
            answer = self.request("PATCH", path, {"body": body})
            return "updated", self._expect(answer, dict, f"PATCH {path}", ("id",))
        path = f"/repos/{self.repo}/issues/{pr}/comments"
        answer = self.request("POST", path, {"body": body})
        return "created", self._expect(answer, dict, f"POST {path}", ("id",))

    def sync_labels(self, pr: int, wanted: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Add the `wanted` labels and remove the stale ones among those impact sets (`KNOWN_LABELS`, the
        `10.rebuild-*` labels of nixpkgs CI; any other label is left alone): (added, removed)."""
        want = list(dict.fromkeys(wanted))
        path = f"/repos/{self.repo}/issues/{pr}/labels"
        answer = self.request("GET", f"{path}?per_page=100")
        labels = self._expect([] if answer is None else answer, list, f"GET {path}")
        have = [label["name"] for label in labels if isinstance(label, dict) and isinstance(label.get("name"), str)]
        stale = [n for n in have if n in KNOWN_LABELS and n not in want]
        for name in stale:
            self.request("DELETE", f"{path}/{urllib.parse.quote(name, safe='')}")
        missing = [n for n in want if n not in have]
        if missing:
            self.request("POST", path, {"labels": missing})
        return tuple(missing), tuple(stale)


def _rate_limited(status: int, headers: Any) -> bool:
    if status == 429:
        return True
    if status != 403 or not headers:
        return False
    return bool(headers.get("Retry-After")) or headers.get("X-RateLimit-Remaining") == "0"


def _reset_time(headers: Any) -> float | None:
    reset = headers.get("X-RateLimit-Reset") if headers else None
    if reset and reset.strip().isdigit() and len(reset.strip()) <= 12:
        return float(reset)
    return None


#: The note that ends a comment cut to GitHub's limit.
CUT_NOTE = "\n\n> **Note:** this report was cut to fit GitHub's comment limit; see report.md in the workflow run.\n"


def comment_body(markdown: str) -> str:
    """The comment text: the report with the marker first, cut to GitHub's limit with a visible note; a cut
    never leaves a `<details>` block or a code fence open."""
    body = markdown if markdown.startswith(MARKER) else f"{MARKER}\n{markdown}"
    if len(body) <= COMMENT_LIMIT:
        return body
    return close_open_blocks(body, COMMENT_LIMIT, CUT_NOTE)


def post_report(
    github: GitHub, pr: int, markdown: str, labels: Iterable[str], head_sha: str | None = None
) -> PostResult:
    """Put the report on pull request `pr`: the sticky comment, then the labels.

    With `head_sha`, nothing is posted unless the pull request still ends at that commit (the one evaluated):
    a run for a commit the pull request has since moved past leaves it to the newer run.
    """
    if head_sha is not None:
        actual = github.head_sha(pr)
        if actual != head_sha:
            raise GitHubError(
                f"{github.repo}#{pr} is at {actual or 'no commit'}, not at {head_sha}, the commit the report is for; "
                "nothing posted",
                tip="the pull request moved on (a newer run posts its report) "
                "or the report names the wrong pull request",
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


# A report can come from a workflow that ran a fork's code (docs/pr-bot.md): what it says is checked, not trusted.
_PR_NUMBER = re.compile(r"[1-9][0-9]{0,9}\n?")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
REPO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?!\.\.?$)[A-Za-z0-9_.-]{1,100}")


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


def read_pr_number(path: Path) -> int:
    """The pull request number in `path`: a plain positive integer, at most one trailing newline."""
    text = _read_small(path, "a pull request number")
    if not _PR_NUMBER.fullmatch(text):
        raise InputError(
            f"{path}: {text.strip()[:40]!r} is not a pull request number",
            tip="the file must hold a plain integer; nothing posted",
        )
    return int(text)


def check_report_head(path: Path, head_sha: str) -> None:
    """Refuse a report whose `head-sha` file is missing or names another commit than `head_sha`."""
    if not _SHA.fullmatch(head_sha):
        raise InputError(
            f"--head-sha {head_sha[:80]!r} is not a commit SHA",
            tip="pass the full hex SHA, e.g. ${{ github.event.pull_request.head.sha }}",
        )
    text = _read_small(path, "a commit SHA").strip()
    if text != head_sha:
        raise InputError(
            f"{path}: the report is for commit {text[:64]!r}, not {head_sha}; nothing posted",
            tip="the artifact belongs to another run or was altered",
        )


def report_comment(comment: PrComment) -> tuple[str, list[str]]:
    """The comment text and the labels for a report's checked data (`impact.loaders.pr_report`): rendered here,
    in the job that posts, and the labels computed from the report's numbers."""
    from impact.render.pr import comment_labels, comment_markdown

    return comment_markdown(comment), list(comment_labels(comment))
