"""Writing output files so that nothing is ever half-written, and the report pair `impact post` publishes.

- `check_output_file` / `check_output_folder` refuse, before any work, an output that cannot be written: an
  empty name, a folder where a file belongs (or the reverse), a path under a file, a folder without write
  permission. One line each, exit code 2.
- `write_atomic` writes into an anonymous file in the target folder (Linux `O_TMPFILE`), named only once it
  is complete and then renamed over the target: a write killed at any moment, even by SIGKILL, leaves no
  `*.tmp` file and no half-written target. Where `O_TMPFILE` is missing, a named temporary file is removed
  on any Python-level failure.
- `write_report` / `read_report`: report.md and report.json from `impact pr`. report.json is written last and
  carries the SHA-256 of report.md; `read_report` refuses a pair whose digest does not match, so a failure
  between the two writes (or an edited file) can never make `impact post` publish a mismatched pair.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from impact.errors import InputError

#: The report.json key holding the SHA-256 (hex) of report.md's bytes.
DIGEST_KEY = "report_md_sha256"
REPORT_MD = "report.md"
REPORT_JSON = "report.json"


def _writable_folder(folder: Path, what: str) -> None:
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{what}: {parent} is a file, not a folder", tip="choose another output path")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(
                    f"{what}: cannot write in {parent} (permission denied)", tip="choose a writable folder"
                )
            return


def check_output_file(path: Path | str, option: str = "--output") -> Path:
    """`path` as a file impact can write (atomically); else `InputError` naming `option`."""
    text = str(path)
    if not text.strip() or "\0" in text:
        raise InputError(f"{option} {text!r} is not a file name", tip="give the file to write, e.g. -o snapshot.impact")
    path = Path(text)
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder, expected a file name", tip="give the file to write inside it")
    if path.exists() and not path.is_file():
        raise InputError(f"{option} {path}: exists and is not a regular file", tip="choose another output path")
    _writable_folder(path.parent, f"{option} {path}")
    return path


def check_output_folder(path: Path | str, option: str = "--output") -> Path:
    """`path` as a folder impact can write files in (made if missing); else `InputError` naming `option`."""
    text = str(path)
    if not text.strip() or "\0" in text:
        raise InputError(f"{option} {text!r} is not a folder name", tip="give the folder to write to, e.g. -o report")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path}: is a file, expected a folder", tip="choose another output folder")
    _writable_folder(path, f"{option} {path}")
    return path


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot make folder {folder}: {e.strerror}", tip="choose a writable output path") from None


def write_atomic(path: Path, write: Callable[[IO[bytes]], None] | bytes) -> None:
    """Write `path` all at once: `write(file)` (or the bytes given) goes to an unnamed file, renamed over `path`
    only when complete. An `OSError` becomes `InputError` naming the file."""
    path = Path(path)
    _make_folder(path.parent)
    fill: Callable[[IO[bytes]], None] = (lambda f: f.write(write)) if isinstance(write, bytes) else write  # type: ignore[assignment,return-value]
    global _anonymous_works
    try:
        if _anonymous_works and hasattr(os, "O_TMPFILE"):
            try:
                fd = os.open(path.parent, os.O_TMPFILE | os.O_WRONLY, 0o644)
            except OSError:
                fd = -1
            if fd >= 0:
                if _write_anonymous(fd, path, fill):
                    return
                _anonymous_works = False  # the system cannot name such a file: do not fill one again
        _write_named(path, fill)
    except OSError as e:
        raise InputError(
            f"cannot write {path}: {e.strerror or e}", tip="check the disk space and permissions"
        ) from None


#: Whether this system can name an anonymous file (some sandboxes refuse linking /proc/self/fd).
_anonymous_works = True


def _write_anonymous(fd: int, path: Path, fill: Callable[[IO[bytes]], None]) -> bool:
    """Fill the anonymous file `fd` and rename it to `path`; False (nothing written) if it cannot be named."""
    with os.fdopen(fd, "wb") as f:
        fill(f)
        f.flush()
        os.fsync(f.fileno())
        # Give the finished file a name (a hard link to it), then rename that over the target.
        for _ in range(100):
            name = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
            try:
                _link_fd(f.fileno(), name)
                break
            except FileExistsError:
                continue
            except OSError:
                return False
        else:
            raise OSError("no free temporary name")
    try:
        os.replace(name, path)
    except BaseException:
        name.unlink(missing_ok=True)
        raise
    return True


def _link_fd(fd: int, name: Path) -> None:
    """Give the open anonymous file `fd` the name `name`: through /proc (unprivileged), else `linkat` with
    `AT_EMPTY_PATH` (where /proc refuses, as in some containers)."""
    try:
        os.link(f"/proc/self/fd/{fd}", name, follow_symlinks=True)
        return
    except FileExistsError:
        raise
    except OSError as first:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        at_fdcwd, at_empty_path = -100, 0x1000
        if libc.linkat(fd, b"", at_fdcwd, os.fsencode(name), at_empty_path) != 0:
            errno = ctypes.get_errno()
            if errno == 17:
                raise FileExistsError(errno, os.strerror(errno)) from None
            raise first from None


def anonymous_writes(folder: Path) -> bool:
    """Whether writes into `folder` go through an unnamed file (so even SIGKILL leaves no temporary file)."""
    if not (_anonymous_works and hasattr(os, "O_TMPFILE")):
        return False
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o644)
    except OSError:
        return False
    name = folder / f".probe.{os.urandom(6).hex()}.tmp"
    try:
        _link_fd(fd, name)
    except OSError:
        return False
    finally:
        os.close(fd)
    name.unlink()
    return True


def _write_named(path: Path, fill: Callable[[IO[bytes]], None]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(folder: Path, markdown: str, data: dict[str, Any]) -> tuple[Path, Path]:
    """Write report.md, then report.json (with report.md's digest) into `folder`: (report.md, report.json)."""
    folder = check_output_folder(folder)
    md = markdown.encode("utf-8")
    doc = {**data, DIGEST_KEY: hashlib.sha256(md).hexdigest()}
    md_path, json_path = folder / REPORT_MD, folder / REPORT_JSON
    write_atomic(md_path, md)
    write_atomic(json_path, (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return md_path, json_path
