"""Reading input files: every failure turned into one line naming the file.

Every input may be hostile (a pull request's author controls the tree the bot evaluates), so reading:
- refuses anything but a regular file before reading it (a FIFO or a device would block or never end);
- decompresses gzip in a stream with a size limit (a 3 MB gzip bomb would otherwise expand to gigabytes);
- decodes UTF-8 strictly, and parses JSON with its nesting depth and integer sizes bounded (Python's parser
  raises RecursionError or ValueError there, which are not the user's to read).
"""

from __future__ import annotations

import json
import os
import stat
import zlib
from pathlib import Path
from typing import Any

from impact.errors import InputError

#: Environment variable raising (or lowering) the most bytes a gzipped input may expand to.
MAX_BYTES_ENV = "IMPACT_MAX_INPUT_BYTES"
#: A gzipped input may expand to this many times its size (JSON of derivations compresses about 12-fold)...
MAX_RATIO = 100
#: ...and always to at least this many bytes.
MIN_LIMIT = 64 * 1024 * 1024
_CHUNK = 1 << 20


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: Path) -> int:
    """An open file descriptor for `path`, which must be a regular file; never blocks on a FIFO or device."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, expected a file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    kind = _kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise InputError(f"{path}: is {kind}, expected a file", tip="give a regular file")
    return fd


def check_regular(path: Path) -> None:
    """Refuse `path` unless it is an existing regular file (without opening a FIFO or device)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    kind = _kind(mode)
    if kind is not None:
        raise InputError(f"{path}: is {kind}, expected a file", tip="give a regular file")


def expansion_limit(compressed_size: int) -> int:
    """The most bytes a gzipped file of `compressed_size` bytes may expand to."""
    env = os.environ.get(MAX_BYTES_ENV, "").strip()
    if env.isdigit():
        return int(env)
    return max(MIN_LIMIT, MAX_RATIO * compressed_size)


def gunzip(raw: bytes, origin: str, limit: int | None = None) -> bytes:
    """Decompress gzip `raw` (every member) in a stream, refusing to expand past `limit` bytes."""
    limit = expansion_limit(len(raw)) if limit is None else limit
    out = bytearray()
    data = raw
    try:
        while data:
            d = zlib.decompressobj(wbits=31)
            pending = data
            while not d.eof:
                chunk = d.decompress(pending, min(_CHUNK, limit + 1 - len(out)))
                out += chunk
                if len(out) > limit:
                    raise InputError(
                        f"{origin}: gzip data expands past {limit:,} bytes (a gzip bomb?)",
                        tip=f"set {MAX_BYTES_ENV} to a larger byte count if the file is genuine",
                    )
                pending = d.unconsumed_tail
                if not chunk and not pending:
                    raise EOFError("the stream ends early")
            data = d.unused_data.lstrip(b"\0")
    except (EOFError, zlib.error) as e:
        raise InputError(
            f"{origin}: corrupt gzip data ({e or 'the stream ends early'})",
            tip="the file is truncated or damaged; export it again",
        ) from None
    return bytes(out)


def read_bytes(path: Path) -> bytes:
    """The content of `path`, gunzipped when it is gzip; a missing, special or corrupt file raises `InputError`."""
    fd = open_regular(path)
    try:
        with os.fdopen(fd, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror}") from None
    if raw[:2] == b"\x1f\x8b":
        return gunzip(raw, str(path))
    return raw


def decode(raw: bytes, origin: str) -> str:
    """`raw` decoded as UTF-8; anything else raises `InputError` naming the byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{origin}: not UTF-8 text (byte {e.start})", tip="give the file as Nix wrote it") from None


def read_text(path: Path) -> str:
    """The text of `path` (gunzipped when needed), decoded as UTF-8."""
    return decode(read_bytes(path), str(path))


def parse_json(text: str | bytes, origin: str) -> Any:
    """Parse one JSON document; bad syntax, too deep nesting or a huge integer raise `InputError`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{origin}: not valid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise InputError(f"{origin}: JSON nested too deeply to be Nix's output") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{origin}: not UTF-8 text (byte {e.start})") from None
    except ValueError as e:  # an integer past Python's digit limit
        raise InputError(f"{origin}: not usable JSON ({str(e).split(';')[0]})") from None


def read_json(path: Path) -> Any:
    """The JSON document in `path` (plain or gzipped)."""
    return parse_json(read_text(path), str(path))


def field(record: Any, key: str, kind: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    """`record[key]` checked to be of `kind`; a missing (without `default`) or mistyped value raises `InputError`
    naming `where` (the file and the derivation or job) and the field."""
    if key not in record or record[key] is None:
        if default is not ...:
            return default
        raise InputError(f"{where}: has no `{key}`")
    value = record[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, (int,))):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise InputError(f"{where}: field `{key}` is {_json_type(value)}, expected {_json_name(names)}")
    return value


_JSON_NAMES = {"str": "a string", "dict": "an object", "Mapping": "an object", "list": "a list", "int": "an integer"}


def _json_name(names: str) -> str:
    return " or ".join(_JSON_NAMES.get(n, n) for n in names.split(" or "))


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
