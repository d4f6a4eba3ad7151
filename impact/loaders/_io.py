"""Reading input files: transparent gzip, and every failure turned into one line naming the file."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

from impact.errors import InputError


def read_bytes(path: Path) -> bytes:
    """The content of `path`, gunzipped when it is gzip; a missing or corrupt file raises `InputError`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise InputError(
                f"{path}: corrupt gzip data ({e or 'the stream ends early'})",
                tip="the file is truncated or damaged; export it again",
            ) from None
    return raw


def read_text(path: Path) -> str:
    """The text of `path` (gunzipped when needed), decoded as UTF-8."""
    try:
        return read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text (byte {e.start})") from None


def parse_json(text: str, origin: str) -> Any:
    """Parse one JSON document; a syntax error raises `InputError` with the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{origin}: not valid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
