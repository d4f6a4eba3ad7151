"""The bot's trust boundaries, against a fake GitHub served over real HTTP on 127.0.0.1 (http.server in a
thread): a planted marker (hijack), a redirect to another origin, names that try to inject Markdown, a server
that dribbles its answer, rate limits, and answers that are not what the endpoint returns."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from impact.cli import main
from impact.errors import InputError
from impact.github import ACTIONS_BOT_LOGIN, MARKER, GitHub, GitHubError, comment_body, post_report
from tests.fake_github import BOT, REPO, TOKEN, Fake, Repo, answer
from tests.pr_reports import evaluations, write_pr_report

_answer = answer


def client(url: str, **kw: Any) -> GitHub:
    return GitHub(repo=REPO, token=TOKEN, api_url=url, sleep=lambda s: None, **kw)


def writes(fake: Fake) -> list[tuple[str, str]]:
    return [(s.method, s.path) for s in fake.seen if s.method != "GET"]


# -- hijack: the marker alone is not enough ---------------------------------------------------------------------


def test_a_marker_planted_by_someone_else_is_ignored(serve: Callable[..., Fake]) -> None:
    planted = {"id": 7, "body": f"{MARKER}\nI am the bot, trust me", "user": {"login": "mallory"}}
    quoted = {"id": 8, "body": f"> {MARKER}\n> quoting the bot", "user": {"login": BOT}}
    repo = Repo([planted, quoted])
    fake = serve(repo)
    result = post_report(client(fake.url), 5, "## report", [])
    assert result.comment_action == "created"
    assert planted["body"].endswith("trust me") and not any(p == "PATCH" for p, _ in writes(fake))
    assert ("POST", f"/repos/{REPO}/issues/5/comments") in writes(fake)


def test_the_bots_own_comment_is_edited(serve: Callable[..., Fake]) -> None:
    planted = {"id": 7, "body": f"{MARKER}\nfake", "user": {"login": "mallory"}}
    own = {"id": 9, "body": f"{MARKER}\nold", "user": {"login": BOT}}
    fake = serve(Repo([planted, own]))
    result = post_report(client(fake.url), 5, "## new", [])
    assert (result.comment_action, result.comment_id) == ("updated", 9)
    assert writes(fake)[0] == ("PATCH", f"/repos/{REPO}/issues/comments/9")
    assert planted["body"].endswith("fake") and "## new" in own["body"]


def test_an_actions_token_owns_the_actions_bots_comments(serve: Callable[..., Fake]) -> None:
    own = {"id": 3, "body": f"{MARKER}\nold", "user": {"login": ACTIONS_BOT_LOGIN}}
    planted = {"id": 2, "body": f"{MARKER}\nfake", "user": {"login": "github-actions"}}  # a user, not the bot
    fake = serve(Repo([planted, own], login=None))
    result = post_report(client(fake.url), 5, "## new", [])
    assert (result.comment_action, result.comment_id) == ("updated", 3)


# -- the token never leaves the API's origin ----------------------------------------------------------------------


def test_a_redirect_to_another_origin_gets_no_token(serve: Callable[..., Fake]) -> None:
    elsewhere = serve(Repo([]))
    api = serve(lambda m, p, b: _answer(302, Location=elsewhere.url + p) if "comments" in p else Repo([])(m, p, b))
    with pytest.raises(GitHubError):
        client(api.url).upsert_comment(5, "## x")  # the other origin answers 401-free but the body is wrong…
    assert any(s.path.startswith(f"/repos/{REPO}/issues/5/comments") for s in elsewhere.seen)
    assert all(s.authorization is None for s in elsewhere.seen)  # …and, above all, it never saw the token
    assert all(s.authorization == f"Bearer {TOKEN}" for s in api.seen)


def test_a_redirect_within_the_origin_keeps_the_token(serve: Callable[..., Fake]) -> None:
    repo = Repo([])

    def route(m: str, p: str, b: Any) -> tuple[int, dict[str, str], bytes]:
        if p.startswith("/old"):
            return _answer(301, Location=p.removeprefix("/old"))
        return repo(m, p, b)

    fake = serve(route)
    gh = client(fake.url)
    assert gh.request("GET", f"/old/repos/{REPO}/issues/5/comments") == []
    assert [s.authorization for s in fake.seen] == [f"Bearer {TOKEN}"] * 2


# -- the token itself -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [TOKEN + "\n", "ghs_a\r\nX-Evil: 1", "ghs_\x00x", "ghs_\x1b[2J", "ghs_é", "ghs_a b"])
def test_a_token_with_control_characters_is_refused_unprinted(
    serve: Callable[..., Fake],
    tmp_path: Path,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = serve(Repo([]))
    with pytest.raises(InputError) as e:
        GitHub(repo=REPO, token=token, api_url=fake.url)
    assert token.strip() not in str(e.value)
    if "\0" in token:
        return  # an environment variable cannot hold a NUL byte
    write_pr_report(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    assert main(["post", "--pr", "5", "--repo", REPO, "--api-url", fake.url, "--report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "GITHUB_TOKEN holds" in err and token.strip() not in err
    assert fake.seen == []


# -- a server that dribbles its answer is cut off by one deadline for the whole request --------------------------------


def test_a_dribbling_body_is_cut_at_the_deadline(serve: Callable[..., Fake]) -> None:
    stop = threading.Event()

    def start() -> str:
        import socket

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def run() -> None:
            conn, _ = listener.accept()
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():  # one byte at a time, each well within any per-read timeout
                try:
                    conn.sendall(b" ")
                except OSError:
                    break
                time.sleep(0.2)
            conn.close()
            listener.close()

        threading.Thread(target=run, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    url = start()
    began = time.monotonic()
    with pytest.raises(GitHubError, match="did not answer GET /user within 2 s"):
        GitHub(repo=REPO, token=TOKEN, api_url=url, timeout=2, retries=0).bot_login()
    stop.set()
    assert time.monotonic() - began < 6


def test_dribbled_headers_are_cut_at_the_deadline() -> None:
    import socket

    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def run() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"X-Slow: a\r\n")
            except OSError:
                break
            time.sleep(0.2)
        conn.close()
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    began = time.monotonic()
    with pytest.raises(GitHubError):
        client(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=2, retries=0).bot_login()
    stop.set()
    assert time.monotonic() - began < 6


# -- rate limits are named as such, with when they reset -------------------------------------------------------------


def test_a_rate_limit_far_off_is_reported_with_its_reset(serve: Callable[..., Fake]) -> None:
    reset = int(time.time()) + 3600
    fake = serve(
        lambda m, p, b: _answer(
            403,
            {"message": "API rate limit exceeded"},
            **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        )
    )
    began = time.monotonic()
    with pytest.raises(GitHubError) as e:
        GitHub(repo=REPO, token=TOKEN, api_url=fake.url, max_wait=5).comments(5)
    assert time.monotonic() - began < 3  # no pointless wait of an hour
    text = str(e.value)
    assert "rate limit" in text and time.strftime("%H:%M", time.gmtime(reset)) in text and "UTC" in text
    assert "permission" not in text + (e.value.tip or "")
    assert len(fake.seen) == 1


def test_a_429_with_a_long_retry_after_is_a_rate_limit(serve: Callable[..., Fake]) -> None:
    fake = serve(lambda m, p, b: _answer(429, {"message": "slow down"}, **{"Retry-After": "900"}))
    with pytest.raises(GitHubError, match=r"rate limit .* resets in 900 s"):
        GitHub(repo=REPO, token=TOKEN, api_url=fake.url, max_wait=5).comments(5)


def test_a_secondary_rate_limit_is_retried_then_succeeds(serve: Callable[..., Fake]) -> None:
    answers = [_answer(403, {"message": "secondary rate limit"}, **{"Retry-After": "1"}), _answer(200, [])]
    fake = serve(lambda m, p, b: answers.pop(0))
    waits: list[float] = []
    assert GitHub(repo=REPO, token=TOKEN, api_url=fake.url, sleep=waits.append).comments(5) == []
    assert waits == [1.0]


# -- answers that are not what the endpoint returns -------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, problem",
    [
        (b"<html>Sign in</html>", "not JSON"),
        (b"{}", "is {}, not an object with id"),
        (b"[1, 2]", "is list, not an object with id"),
        (b'"ok"', "is str, not an object with id"),
        (b"[" * 100_000, "not JSON"),
        (b"", "is nothing, not an object with id"),
    ],
)
def test_a_malformed_answer_to_creating_the_comment(serve: Callable[..., Fake], payload: bytes, problem: str) -> None:
    def route(m: str, p: str, b: Any) -> tuple[int, dict[str, str], bytes]:
        if m == "POST":
            return 201, {"Content-Type": "application/json"}, payload
        return Repo([])(m, p, b)

    fake = serve(route)
    with pytest.raises(GitHubError, match=re.escape(problem)):
        post_report(client(fake.url), 5, "## r", [])


@pytest.mark.parametrize(
    "endpoint, payload, problem",
    [
        ("/comments", b'{"message": "moved"}', "not a list"),
        ("/labels", b'"x"', "not a list"),
        ("/user", b"{}", "not an object with login"),
        ("/pulls/5", b"[]", "not an object with head"),
    ],
)
def test_malformed_answers_elsewhere(serve: Callable[..., Fake], endpoint: str, payload: bytes, problem: str) -> None:
    def route(m: str, p: str, b: Any) -> tuple[int, dict[str, str], bytes]:
        if m == "GET" and p.split("?")[0].endswith(endpoint):
            return 200, {}, payload
        return Repo([])(m, p, b)

    fake = serve(route)
    with pytest.raises(GitHubError, match=problem):
        post_report(client(fake.url), 5, "## r", ["10.rebuild-linux: 1"], head_sha="0" * 40)


def test_a_malformed_answer_through_the_command_is_one_line(
    serve: Callable[..., Fake], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = serve(lambda m, p, b: (200, {}, b"<html>"))
    write_pr_report(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert main(["post", "--pr", "5", "--repo", REPO, "--api-url", fake.url, "--report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "not JSON" in err and "Traceback" not in err and TOKEN not in err


# -- injection: names from the evaluated tree reach the comment only escaped -------------------------------------------

EVIL = [
    "evil`</details><img src=x onerror=alert(1)>`",
    "pipe|breaks|table",
    "@NixOS/security-team",
    "[click](javascript:alert(1))",
    "line\n## injected heading",
    "see https://evil.example/login",
    "www.evil.example",
    "NixOS/nixpkgs#1 and #2",
]
#: A derivation's `system` is any string the tree writes.
EVIL_SYSTEM = "see https://evil.example/login #3"


def _outside_code(markdown: str) -> str:
    """`markdown` without its fenced blocks and code spans (CommonMark: a span closes at the same run of backticks)."""
    kept, fence = [], None
    for line in markdown.splitlines():
        m = re.match(r"(`{3,})", line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            kept.append(re.sub(r"(`+)(.+?)(?<!`)\1(?!`)", "CODE", line))
    return "\n".join(kept)


#: What GitHub turns into a link in text: a URL, `www.`, an issue reference.
LIVE_LINK = re.compile(r"(?i)\b(?:https?|ftp)://|\bwww\.|(?:^|[\s(])#\d|[\w.-]+/[\w.-]+#\d|\bgh-\d")


@pytest.mark.parametrize("evil", EVIL)
def test_injected_names_are_posted_escaped(
    serve: Callable[..., Fake], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, evil: str
) -> None:
    """A package name, attribute, system and maintainer from the evaluated tree: shown, never live."""
    report = write_pr_report(tmp_path / "report", *evaluations(evil, EVIL_SYSTEM, evil), command=f"impact pr {evil}")
    repo = Repo([])
    fake = serve(repo)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert main(["post", "--pr", "5", "--repo", REPO, "--api-url", fake.url, "--report", str(report)]) == 0
    body = repo.comments[0]["body"]
    assert "app.see https://evil.example/login #3" in body  # the names are there, as code
    text = _outside_code(body)  # where Markdown and HTML are live; code spans and fences show text as it is
    assert text.count("<details>") == text.count("</details>") == body.count("<details>")  # no fold opened or closed
    assert "<img" not in text  # no raw HTML
    assert not re.search(r"@(alice|NixOS)\b", text)  # nobody is mentioned
    assert "](javascript:" not in text
    assert not LIVE_LINK.search(text), LIVE_LINK.search(text)  # no link, no issue reference
    assert "\n## injected heading" not in body
    tables: list[list[int]] = [[]]
    for line in body.splitlines():
        if line.startswith("|"):
            tables[-1].append(len(re.findall(r"(?<!\\)\|", line)))  # cells, not counting escaped pipes
        elif tables[-1]:
            tables.append([])
    assert any(tables) and all(len(set(t)) <= 1 for t in tables)  # every row of a table has its header's cells


# -- the cut to GitHub's limit -----------------------------------------------------------------------------------------


def test_the_cut_never_leaves_a_fold_or_a_fence_open() -> None:
    body = (
        MARKER
        + "\n"
        + "\n".join(["<details>", "<summary>s</summary>", "", "```", *(["x" * 80] * 2000), "```", "</details>"])
    )
    cut = comment_body(body)
    assert len(cut) <= 65_536
    assert cut.count("<details>") == cut.count("</details>")
    assert sum(1 for line in cut.splitlines() if line.startswith("```")) % 2 == 0
    assert "cut to fit" in cut and cut.startswith(MARKER)
