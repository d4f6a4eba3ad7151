"""impact's cache: the version-2 copies of compressed version-1 snapshots, one per content, and what it holds.

The shipped snapshots are small compressed version-1 files; impact reads each through a version-2 copy it
makes on first use (memory-mapped, with its tables), kept in the cache folder: `$IMPACT_CACHE_DIR`, else
`$XDG_CACHE_HOME/impact`, else `~/.cache/impact`.

- `snapshots/<size>-<digest>.impact`: the copy of a version-1 file with that content (BLAKE2b-256 of its
  bytes). Keyed by content, not by path or time: every clone, copy or checkout of a shipped file shares one
  copy, and a file touched but not changed keeps it.
- `sources/<hash of the path>.json`: the digest of the file at a path, remembered with what `stat` says of it
  (size, modification and change times, inode, device), so that a start does not read the file again to hash
  it. It is trusted only while all of those are the same (a change time cannot be set back by a program), is
  read bounded and checked as any input, and is made again when anything is off.
- `nix/`: the private Nix store `impact eval` evaluates in (under `$XDG_CACHE_HOME/impact`), shown by
  `impact cache info`, not managed here.

Copies and records are written atomically (`impact.writing.write_atomic`): processes that make the same copy
at once each write a whole file and the last rename wins, and a process that has a copy mapped keeps reading
it when it is replaced or removed. After a copy is written, copies that no live record points to (their file
changed or is gone) are removed, and so are the copies of impact's earlier layout (one per path and time).
`impact cache info` lists it all, `impact cache clean` empties it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from impact.model import DerivationGraph

#: Environment variable naming the cache folder.
CACHE_ENV = "IMPACT_CACHE_DIR"
#: The folders of the cache: the copies, and the records of which file has which digest.
COPIES, SOURCES = "snapshots", "sources"
#: A copy's name: the source's size and BLAKE2b-256 digest.
_COPY = re.compile(r"(\d{1,15})-([0-9a-f]{64})\.impact")
#: A copy in the layout of impact before content keys: `<stem>-<size>-<mtime_ns>-<crc32 of path>.impact`.
_LEGACY = re.compile(r".+-\d+-\d+-[0-9a-f]{8}\.impact")
_RECORD = re.compile(r"[0-9a-f]{32}\.json")
#: The most bytes of a record read.
_RECORD_BYTES = 8192
#: The `stat` fields a record must match to be trusted.
_STAT_FIELDS = ("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino", "st_dev")


def cache_dir() -> Path | None:
    """The cache folder: `$IMPACT_CACHE_DIR`, else `$XDG_CACHE_HOME/impact`, else `~/.cache/impact`; None when
    there is no home to put it in."""
    folder = os.environ.get(CACHE_ENV)
    if folder:
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if base.startswith("~"):
        return None
    return Path(base) / "impact"


def nix_store_dir() -> Path:
    """The private Nix store `impact eval` evaluates in by default: `$XDG_CACHE_HOME/impact/nix`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "impact" / "nix"


def _stamp(st: os.stat_result) -> dict[str, int]:
    return {name: int(getattr(st, name)) for name in _STAT_FIELDS}


def _record_path(folder: Path, source: Path) -> Path:
    key = hashlib.blake2b(os.fsencode(str(source)), digest_size=16).hexdigest()
    return folder / SOURCES / f"{key}.json"


def _read_record(path: Path) -> dict[str, Any] | None:
    """A record as written by `_remember`, or None when it is missing, too long, or not of that shape."""
    from impact.errors import InputError
    from impact.loaders._io import open_regular

    try:
        fd = open_regular(path)
    except InputError:
        return None
    with os.fdopen(fd, "rb") as f:
        raw = f.read(_RECORD_BYTES + 1)
    try:
        record = json.loads(raw) if len(raw) <= _RECORD_BYTES else None
    except (ValueError, UnicodeDecodeError):
        return None
    if not (
        isinstance(record, dict)
        and isinstance(record.get("path"), str)
        and isinstance(record.get("key"), str)
        and _COPY.fullmatch(record["key"] + ".impact")
        and isinstance(record.get("stat"), dict)
        and all(type(record["stat"].get(k)) is int for k in _STAT_FIELDS)
    ):
        return None
    return record


def _digest(source: Path) -> str:
    h = hashlib.blake2b(digest_size=32)
    with open(source, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def content_key(source: Path, folder: Path | None = None) -> str:
    """`<size>-<digest>` of the file `source`: remembered in the cache's records while `stat` says the file is
    the same, else read and hashed (and remembered, when the cache can be written)."""
    from impact.errors import InputError
    from impact.writing import write_atomic

    source = source.resolve()
    st = source.stat()
    record_path = _record_path(folder, source) if folder is not None else None
    if record_path is not None:
        record = _read_record(record_path)
        if record is not None and record["path"] == str(source) and record["stat"] == _stamp(st):
            return str(record["key"])
    key = f"{st.st_size}-{_digest(source)}"
    if record_path is not None and _stamp(source.stat()) == _stamp(st):  # not changed while it was read
        document = {"path": str(source), "key": key, "stat": _stamp(st)}
        with contextlib.suppress(InputError):  # a cache that cannot be written: the key is still right
            write_atomic(record_path, json.dumps(document).encode())
    return key


def copy_path(source: Path) -> Path | None:
    """Where the version-2 copy of the version-1 file `source` is kept (see the module docstring); None when
    there is no cache folder."""
    folder = cache_dir()
    if folder is None:
        return None
    return folder / COPIES / f"{content_key(source, folder)}.impact"


def _live_keys(folder: Path) -> set[str]:
    """The keys of the records whose file is still there and unchanged; records of files gone are removed."""
    keys = set()
    for path in (folder / SOURCES).glob("*.json"):
        if not _RECORD.fullmatch(path.name):
            continue
        record = _read_record(path)
        if record is None:
            continue
        try:
            st = os.stat(record["path"])
        except FileNotFoundError:
            path.unlink(missing_ok=True)
            continue
        except OSError:
            continue
        if _stamp(st) == record["stat"]:
            keys.add(record["key"])
    return keys


def prune(keep: Path) -> list[Path]:
    """Remove the copies beside `keep` that no live record points to, and the copies of impact's earlier
    layout in the cache folder; returns what was removed. Never raises: a cache that cannot be tidied is
    left as it is."""
    removed: list[Path] = []
    try:
        folder = keep.parent.parent
        live = _live_keys(folder) | {keep.stem}
        stale = [p for p in keep.parent.iterdir() if _COPY.fullmatch(p.name) and p.stem not in live]
        stale += [p for p in folder.iterdir() if _LEGACY.fullmatch(p.name) and p.is_file()]
        for path in stale:
            path.unlink(missing_ok=True)
            removed.append(path)
    except OSError:
        pass
    return removed


@dataclass(frozen=True)
class CachedCopy:
    """One version-2 copy in the cache."""

    #: The copy's file.
    path: Path
    #: Its size in bytes.
    size: int
    #: The label of the snapshot it holds (empty when its header cannot be read).
    label: str
    #: The files (of every clone) whose content it is, as the records say.
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"path": str(self.path), "bytes": self.size, "label": self.label, "sources": list(self.sources)}


@dataclass(frozen=True)
class CacheInfo:
    """What the cache holds (`impact cache info`)."""

    #: The cache folder (None: no home to put it in).
    folder: Path | None
    copies: tuple[CachedCopy, ...]
    #: Copies in the layout of earlier impact versions (one per path and time), and their bytes.
    legacy: tuple[Path, ...]
    legacy_bytes: int
    #: The private Nix store of `impact eval`, and its bytes (0 when there is none).
    nix_store: Path
    nix_store_bytes: int

    @property
    def copy_bytes(self) -> int:
        """Bytes of every copy."""
        return sum(c.size for c in self.copies)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (`impact cache info --json`)."""
        return {
            "folder": str(self.folder) if self.folder else None,
            "copies": [c.to_dict() for c in self.copies],
            "copy_bytes": self.copy_bytes,
            "legacy_copies": [str(p) for p in self.legacy],
            "legacy_bytes": self.legacy_bytes,
            "nix_store": {"path": str(self.nix_store), "bytes": self.nix_store_bytes},
        }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tree_size(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def _label(path: Path) -> str:
    from impact.errors import InputError
    from impact.loaders.compact_v2 import header_meta

    try:
        return str(header_meta(path).get("label") or "")
    except InputError:
        return ""


def info() -> CacheInfo:
    """What the cache holds: each copy with its snapshot's label and the files it stands for, the copies of
    earlier versions, and the private Nix store's size."""
    folder = cache_dir()
    nix = nix_store_dir()
    nix_bytes = _tree_size(nix) if nix.is_dir() else 0
    if folder is None or not folder.is_dir():
        return CacheInfo(folder, (), (), 0, nix, nix_bytes)
    sources: dict[str, list[str]] = {}
    records = sorted((folder / SOURCES).glob("*.json")) if (folder / SOURCES).is_dir() else []
    for path in records:
        record = _read_record(path)
        if record is not None:
            sources.setdefault(record["key"], []).append(record["path"])
    found = sorted(p for p in (folder / COPIES).glob("*.impact") if _COPY.fullmatch(p.name))
    copies = tuple(CachedCopy(p, _size(p), _label(p), tuple(sorted(sources.get(p.stem, ())))) for p in found)
    legacy = tuple(sorted(p for p in folder.iterdir() if _LEGACY.fullmatch(p.name) and p.is_file()))
    return CacheInfo(folder, copies, legacy, sum(_size(p) for p in legacy), nix, nix_bytes)


@dataclass(frozen=True)
class CleanResult:
    """What `impact cache clean` removed."""

    folder: Path | None
    #: Copies removed (the current layout's and earlier ones'), and their bytes.
    copies: int
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (`impact cache clean --json`)."""
        return {"folder": str(self.folder) if self.folder else None, "copies_removed": self.copies, "bytes": self.bytes}


def clean() -> CleanResult:
    """Remove every copy and record (impact makes a copy again on first use); the private Nix store is left."""
    held = info()
    if held.folder is None:
        return CleanResult(None, 0, 0)
    removed = 0
    for path in [*(c.path for c in held.copies), *held.legacy]:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
    shutil.rmtree(held.folder / SOURCES, ignore_errors=True)
    return CleanResult(held.folder, removed, held.copy_bytes + held.legacy_bytes)


def read_cached(source: Path, load: Callable[[], DerivationGraph]) -> DerivationGraph:
    """An older snapshot through its version-2 copy in the cache (`impact.loaders.cache`, one copy per
    content): mapped when the copy exists, else `load()` and the copy written (atomically) for the next start,
    with every table registered so far, and copies no file uses any more removed. Without a writable cache the
    loaded graph is returned as it is."""
    from impact.errors import InputError
    from impact.loaders import compact_v2
    from impact.model import TABLE_BUILDERS

    try:
        cache = copy_path(source)
    except OSError:
        cache = None
    graph = None
    if cache is not None and cache.is_file():
        try:
            graph = compact_v2.read(cache)
        except InputError:
            graph = None  # a damaged copy is made again below
        if (
            graph is not None
            and all(k in graph.tables for k in TABLE_BUILDERS if k in compact_v2.TABLES)
            and compact_v2.checksummed(cache)
        ):
            graph.origin = str(source)
            return graph
        # The copy lacks a table registered since it was written (e.g. `impact rank` after `impact estimate`):
        # written again below with every table.
    if graph is None:
        graph = load()
    if cache is None or not compact_v2.representable(graph):
        return graph
    try:
        compact_v2.write(graph, cache)
    except (OSError, InputError):  # a cache that cannot be written: answer from the graph read
        return graph
    prune(cache)
    try:
        copy = compact_v2.read(cache)
    except InputError:  # removed at once by `impact cache clean` in another process
        return graph
    copy.origin = str(source)
    return copy
