"""Putting untrusted names into Markdown: one module, used by every Markdown renderer.

Package, attribute, jobset, system and maintainer names reach the PR comment from the tree a pull request's
author controls. Each must render as the literal text it is, whatever it holds: a backtick must not end a
code span, a `|` must not split a table row, a newline must not end a list item or a table, `</details>` or any
other HTML must not close or open a block, `@name` must not notify anyone, and `[x](javascript:…)` must not
become a link.

- `code_span(text)`: the text as inline code, fenced with more backticks than it holds (CommonMark's rule), so
  it needs no other escaping; `table=True` escapes `|` for a table cell (GitHub splits cells before it parses
  code spans).
- `inline_text(text)`: the text as plain Markdown text: punctuation backslash-escaped, `<`, `>` and `&` as
  entities, `@` kept from forming a mention, and `://`, `www.`, `#1` and `GH-1` kept from becoming links (a
  zero-width space inside each: GitHub links them in plain text, never inside a code span).
- `table_cell(text)`: `inline_text` for a table cell.
- `html_text(text)`: the text inside an HTML element (`<summary>`), where Markdown is not parsed but GitHub
  still links mentions and references: kept from it as in `inline_text`.
- `code_block(text)`: a fenced code block no backtick run inside can close.
- `close_open_blocks(text, limit, note)`: cut a Markdown text to `limit` characters at a line, closing an open
  code fence and every open `<details>`, then the note.

Control characters (newlines included) are shown as their escapes (`\\n`), so one name stays on one line.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")
#: Markdown punctuation escaped anywhere; `]` only where it would end a link's text (`](`, `]:`, `][`), `_` only
#: at a word's edge (GitHub never emphasises inside a word: `x86_64` stays as it is).
_PUNCTUATION = re.compile(r"([\\`*|~]|\](?=[(:\[])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
#: What would start a heading, list, quote or rule at the start of a line.
_LEADING = re.compile(r"^([#+\-=>]|\d+[.)])")
_BACKTICKS = re.compile(r"`+")
#: Zero-width space: GitHub links `@name` only when nothing stands between the `@` and the name.
_NO_MENTION = "@\u200b"
#: What GitHub turns into a link in plain text (cmark-gfm's autolinks, then its own references): a URL scheme's
#: `://` (`https://evil.example`), `www.`, an issue or pull request number (`#1`, `owner/repo#1`, `GH-1`). A
#: zero-width space inside each keeps the text as it reads and links nothing.
_LIVE = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=#)(?=\d)|(?<=gh)(?=-\d)", re.I)
_ZWSP = "\u200b"


def _unlinked(text: str) -> str:
    return _LIVE.sub(_ZWSP, text)


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(
        ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    )


def one_line(text: str) -> str:
    """`text` with every control character (newline, tab, escape…) written as its escape."""
    return _CONTROL.sub(_visible, str(text))


def code_span(text: str, *, table: bool = False) -> str:
    """`text` as a Markdown code span that shows it literally; `table=True` inside a table cell."""
    body = one_line(text)
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    if body.startswith("`") or body.endswith("`") or (body.startswith(" ") and body.endswith(" ") and body.strip()):
        body = f" {body} "
    if not body:
        body = " "
    if table:
        body = body.replace("|", "\\|")
    return f"{fence}{body}{fence}"


def inline_text(text: str) -> str:
    """`text` as Markdown text that renders literally: no markup, HTML, link, mention or line break."""
    body = one_line(text)
    body = _LEADING.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], _PUNCTUATION.sub(r"\\\1", body))
    body = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _unlinked(body.replace("@", _NO_MENTION))


def html_text(text: str) -> str:
    """`text` as the literal content of an HTML element such as `<summary>` (where Markdown is not parsed)."""
    body = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    # GitHub may parse Markdown inside an element after a blank line: keep links and code spans out too.
    body = body.replace("[", "&#91;").replace("]", "&#93;").replace("`", "&#96;")
    return _unlinked(body.replace("@", _NO_MENTION))


def code_block(text: str, language: str = "") -> str:
    """`text` as a fenced code block, fenced with more backticks than any run it holds."""
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def table_cell(text: str) -> str:
    """`text` as the literal content of one Markdown table cell."""
    return inline_text(text)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_OPEN = re.compile(r"<details\b", re.I)
_CLOSE = re.compile(r"</details\s*>", re.I)


def _closers(lines: list[str]) -> str:
    """What closes the blocks `lines` leave open: a code fence, then one `</details>` per open one."""
    fence: str | None = None
    depth = 0
    for line in lines:
        m = _FENCE.match(line)
        if fence is not None:
            if (
                m
                and m.group(1)[0] == fence[0]
                and len(m.group(1)) >= len(fence)
                and not line.strip()[len(m.group(1)) :]
            ):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        depth += len(_OPEN.findall(line)) - len(_CLOSE.findall(line))
        depth = max(depth, 0)
    out = [fence] if fence else []
    out += ["", "</details>"] * depth if depth else []
    return "\n".join(out)


def close_open_blocks(text: str, limit: int, note: str) -> str:
    """`text` cut so that it, the closers of what the cut leaves open, and `note` fit in `limit` characters; cut
    at a line, unless that would drop more than half of what fits (one huge line), then within the line."""
    if len(text) <= limit:
        return text
    lines = text[:limit].split("\n")
    if len(lines) > 1 and len(text[:limit]) - len(lines[-1]) >= limit // 2:
        lines.pop()  # the last line is cut in the middle
    while lines:
        closers = _closers(lines)
        body = "\n".join(lines) + ("\n" + closers if closers else "") + note
        excess = len(body) - limit
        if excess <= 0:
            return body
        if len(lines[-1]) > excess and (len(lines) == 1 or len(lines[-1]) > limit // 4):
            lines[-1] = lines[-1][: len(lines[-1]) - excess]
            continue
        # Drop whole lines covering the excess, at least one, so a long text is cut in a few passes.
        drop = 1
        while drop < len(lines) and sum(len(x) + 1 for x in lines[-drop:]) < excess:
            drop += 1
        del lines[-drop:]
    return note.strip()[:limit]
