"""A fake GitHub served over real HTTP on 127.0.0.1 (http.server in a thread), for the bot's tests: a scripted
route per request (`Fake`), and `Repo`, a pull request's comments and labels answering like GitHub. The `serve`
fixture (tests/conftest.py) starts each on a port of its own, so each is its own origin."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from impact.github import ACTIONS_BOT_LOGIN

TOKEN = "ghs_trustBoundaryToken0123456789abcdef"
REPO = "acme/nixpkgs"
BOT = "impact-bot"
#: The commit the fake says pull request 5 ends at.
HEAD = "0" * 40

Route = Callable[[str, str, Any], tuple[int, dict[str, str], bytes]]


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class Fake:
    """A scripted GitHub: `route(method, path, body)` → (status, headers, raw body)."""

    route: Route
    seen: list[Seen] = field(default_factory=list)
    url: str = ""


def answer(status: int, body: Any = None, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """An answer of `status` with `body` as JSON."""
    return status, headers, (json.dumps(body).encode() if body is not None else b"")


def start(route: Route, servers: list[ThreadingHTTPServer]) -> Fake:
    """Serve `route` on a new port of 127.0.0.1 (the server is added to `servers`, to be shut down)."""
    fake = Fake(route)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            fake.seen.append(Seen(self.command, self.path, self.headers.get("Authorization"), body))
            result = fake.route(self.command, self.path, body)
            if result is None:  # the route wrote the answer itself
                return
            status, headers, payload = result
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    servers.append(httpd)
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    return fake


class Repo:
    """A pull request's comments and labels, answering like GitHub."""

    def __init__(self, comments: list[dict[str, Any]], login: str | None = BOT) -> None:
        self.comments = comments
        self.login = login
        self.labels: list[str] = []

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
        path = path.split("?", 1)[0]
        if method == "GET" and path == "/user":
            if self.login is None:
                return answer(403, {"message": "Resource not accessible by integration"})
            return answer(200, {"login": self.login})
        if method == "GET" and path.endswith("/pulls/5"):
            return answer(200, {"number": 5, "head": {"sha": HEAD}})
        if method == "GET" and path.endswith("/comments"):
            return answer(200, self.comments)
        if method == "POST" and path.endswith("/comments"):
            comment = {
                "id": 1000 + len(self.comments),
                "body": body["body"],
                "user": {"login": self.login or ACTIONS_BOT_LOGIN},
            }
            self.comments.append(comment)
            return answer(201, comment)
        if method == "PATCH" and (m := re.search(r"/comments/(\d+)$", path)):
            comment = next(c for c in self.comments if c["id"] == int(m.group(1)))
            comment["body"] = body["body"]
            return answer(200, comment)
        if method == "GET" and path.endswith("/labels"):
            return answer(200, [{"name": n} for n in self.labels])
        if method == "POST" and path.endswith("/labels"):
            self.labels += body["labels"]
            return answer(200, [{"name": n} for n in self.labels])
        return answer(404, {"message": "Not Found"})
