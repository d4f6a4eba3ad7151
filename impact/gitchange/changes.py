"""The changed files of a git range, and the trees on both sides, exported as Hydra sees them (no `.git`).

`BASE..HEAD` compares two commits; `BASE` alone compares BASE with the working tree, uncommitted edits and
files not yet added included (those git ignores are left out). Every revision is checked to be a commit of
the repository before use, and given to git after `--end-of-options`, so a name cannot act as an option.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from impact.errors import InputError
from impact.gitinfo import git_command, git_environment

#: Seconds one git command may take (exporting a tree of nixpkgs takes a few).
GIT_TIMEOUT = 300.0
#: More changed files than this is not a change to answer file by file.
MAX_CHANGED_FILES = 5000
_REVISION = re.compile(r"^[A-Za-z0-9._/@{}^~+-]+$")


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """One file the range changes: `A` added, `M` modified, `D` deleted, `T` type changed (`R` are split)."""

    status: str
    path: str


@dataclass(frozen=True)
class GitRange:
    """The two sides of a change: commits, or a commit and the working tree (`head` None)."""

    repo: Path
    base: str
    head: str | None
    #: As the user wrote it, for headers and reproduction.
    spec: str

    @property
    def label(self) -> str:
        """`8fce8a9..12efcc2`, or `8fce8a9 + working tree`."""
        return f"{self.base[:7]}..{self.head[:7]}" if self.head else f"{self.base[:7]} + working tree"


def run_git(repo: Path, *args: str, data: bytes | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    """git in `repo`, the safe way (`impact.gitinfo`: no hooks, monitor, locks or prompts; literal pathspecs),
    bounded in time; a missing git or a timeout is an InputError."""
    try:
        return subprocess.run(
            git_command(repo, *args),
            input=data,
            capture_output=True,
            env=git_environment(**env),
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise InputError("git is not installed", tip="install git, or name the change with --file or --drv") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {args[0]} in {repo} took over {GIT_TIMEOUT:.0f} s", tip="check the repository") from None


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` and return its output; a failure is an InputError naming the command."""
    done = run_git(repo, *args)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(
            f"git {args[0]} in {repo} failed: {message[-1] if message else 'no message'}",
            tip="run impact inside a nixpkgs git checkout, or give --repo DIR",
        )
    return done.stdout.decode(errors="surrogateescape")


def parse_range(spec: str, repo: Path) -> GitRange:
    """`BASE..HEAD` or `BASE` (against the working tree), each resolved to a full commit hash of `repo`."""
    if not spec or len(spec) > 512:
        raise InputError(f"--git {spec!r}: give BASE..HEAD or BASE", tip="e.g. --git origin/master..HEAD")
    top = _top(repo)
    if ".." in spec:
        base_name, head_name = spec.split("..", 1)
        if "..." in spec or not base_name or not head_name:
            raise InputError(f"--git {spec!r}: give BASE..HEAD (two dots)", tip="e.g. --git origin/master..HEAD")
        return GitRange(top, resolve(top, base_name), resolve(top, head_name), spec)
    return GitRange(top, resolve(top, spec), None, spec)


def _top(repo: Path) -> Path:
    if not repo.is_dir():
        raise InputError(f"{repo}: no such folder", tip="give --repo the top folder of a nixpkgs git checkout")
    try:
        out = git(repo, "rev-parse", "--show-toplevel").strip()
    except InputError:
        raise InputError(
            f"{repo}: not a git repository", tip="run impact inside a nixpkgs git checkout, or give --repo DIR"
        ) from None
    return Path(out)


def resolve(repo: Path, name: str) -> str:
    """The commit `name` (a branch, tag, hash, `HEAD~2`…) names in `repo`."""
    if not _REVISION.match(name) or name.startswith("-"):
        raise InputError(f"{name!r} is not a revision", tip="give a branch, tag or commit hash")
    try:
        out = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}").strip()
    except InputError:
        out = ""
    if not re.fullmatch(r"[0-9a-f]{40}", out):
        raise InputError(f"{name!r} is not a commit of the git repository {repo}", tip="give a branch, tag or hash")
    return out


def changed_files(r: GitRange) -> list[ChangedFile]:
    """The files the range changes (renames as a deletion and an addition), sorted by path."""
    args = ["diff", "--no-renames", "--no-ext-diff", "--name-status", "-z", "--end-of-options", r.base]
    if r.head is not None:
        args.append(r.head)
    fields = git(r.repo, *args).split("\0")
    out: list[ChangedFile] = []
    for status, path in zip(fields[0::2], fields[1::2]):
        if status:
            out.append(ChangedFile(status[0], path))
    if r.head is None:
        untracked = git(r.repo, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
        out += [ChangedFile("A", p) for p in untracked if p]
    if len(out) > MAX_CHANGED_FILES:
        raise InputError(
            f"--git {r.spec}: {len(out):,} files changed; impact answers diffs of at most {MAX_CHANGED_FILES:,}",
            tip="evaluate both sides in full: impact pr BASE HEAD",
        )
    return sorted(set(out), key=lambda c: c.path)


def _check_links(r: GitRange, commit: str) -> None:
    """Refuse a commit holding a link that points outside its tree (absolute, or climbing above the top)."""
    links = []
    for record in git(r.repo, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit).split("\0"):
        if record.startswith("120000 "):
            meta, path = record.split("\t", 1)
            links.append((path, meta.split()[2]))
    if not links:
        return
    batch = run_git(r.repo, "cat-file", "--batch", data="".join(f"{blob}\n" for _, blob in links).encode()).stdout
    pos = 0
    for path, _ in links:
        header_end = batch.index(b"\n", pos)
        size = int(batch[pos:header_end].split()[2])
        target = batch[header_end + 1 : header_end + 1 + size].decode(errors="replace")
        pos = header_end + 1 + size + 1
        depth = path.count("/")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../") or depth < 0:
            raise InputError(
                f"{path} in {commit[:12]} of {r.repo} points outside the tree ({target!r}); refused",
                tip="the evaluated tree may hold no absolute links or links that leave it",
            )


def blobs(r: GitRange, commit: str) -> dict[str, str]:
    """Path → git blob id of every file of `commit` (submodules and links left out)."""
    out: dict[str, str] = {}
    for record in git(r.repo, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", commit).split("\0"):
        if not record or "\t" not in record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, blob = meta.split()
        if kind == "blob" and mode != "120000":
            out[path] = blob
    return out


def export(r: GitRange, commit: str | None, dest: Path) -> None:
    """The tree of `commit` (None: the working tree) in `dest`, as Hydra evaluates it: no `.git`.

    Links that point outside the tree are refused before anything is written, so evaluating the tree can read
    nothing else of the machine. A commit is written by git itself (`read-tree` into a temporary index, then
    `checkout-index`), which never writes through a link; the repository is not touched.
    """
    if commit is not None:
        _check_links(r, commit)
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="impact-index-") as tmp:
            for args in (
                ["read-tree", "--end-of-options", commit],
                ["checkout-index", "--all", "--force", f"--prefix={dest}/"],
            ):
                done = run_git(r.repo, *args, GIT_INDEX_FILE=os.path.join(tmp, "index"))
                if done.returncode != 0:
                    message = done.stderr.decode(errors="replace").strip().splitlines()
                    last = message[-1] if message else "no message"
                    raise InputError(
                        f"git {args[0]} of {commit[:12]} in {r.repo} failed: {last}",
                        tip="check that the commit's files are all in the repository (a shallow or partial clone?)",
                    )
        return
    dest.mkdir(parents=True, exist_ok=True)
    listed = git(r.repo, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    top = r.repo.resolve()
    for rel in sorted({p for p in listed if p}):
        source = r.repo / rel
        if not os.path.lexists(source):
            continue  # deleted in the working tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            pointed = (source.parent / os.readlink(source)).resolve()
            if pointed != top and top not in pointed.parents:
                raise InputError(
                    f"{rel} in the working tree of {r.repo} points outside the tree; refused",
                    tip="the evaluated tree may hold no links that leave it",
                )
            os.symlink(os.readlink(source), target)
        elif source.is_file():
            shutil.copy2(source, target)


def cached_tree(r: GitRange, commit: str, cache: Path | None) -> Path:
    """The tree of `commit`, exported once into `cache` (a folder of impact's cache) and kept for the next
    question on the same base; without a cache, a fresh export under a temporary folder of the caller."""
    if cache is None:
        raise ValueError("a cache folder is needed")
    place = cache / commit / "base"
    if (place.parent / "complete").exists():
        return place
    if place.parent.exists():
        shutil.rmtree(place.parent, ignore_errors=True)
    staging = cache / f".{commit}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    export(r, commit, staging / "base")
    (staging / "complete").write_text(commit + "\n", encoding="utf-8")
    try:
        os.replace(staging, place.parent)
    except OSError:  # another process exported the same commit first
        shutil.rmtree(staging, ignore_errors=True)
    return place


def link_tree(source: Path, dest: Path) -> None:
    """A copy of the tree `source` at `dest` made of hard links (a plain copy where links cannot be made):
    files are replaced, never written in place, so `source` stays as it is."""
    for folder, dirs, files in os.walk(source):
        rel = os.path.relpath(folder, source)
        target = dest / rel if rel != "." else dest
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            src, dst = os.path.join(folder, name), target / name
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        for name in dirs:
            if os.path.islink(os.path.join(folder, name)):
                os.symlink(os.readlink(os.path.join(folder, name)), target / name)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]


def head_contents(r: GitRange, files: list[ChangedFile]) -> dict[str, tuple[bytes, bool] | None]:
    """What each changed file holds in HEAD: (content, is a link) or None when deleted. A link must stay
    inside the tree."""
    out: dict[str, tuple[bytes, bool] | None] = {}
    if r.head is None:
        top = r.repo.resolve()
        for f in files:
            source = r.repo / f.path
            if not os.path.lexists(source) or (not source.is_file() and not source.is_symlink()):
                out[f.path] = None
            elif source.is_symlink():
                target = os.readlink(source)
                pointed = (source.parent / target).resolve()
                if pointed != top and top not in pointed.parents:
                    raise InputError(
                        f"{f.path} in the working tree of {r.repo} points outside the tree; refused",
                        tip="the evaluated tree may hold no links that leave it",
                    )
                out[f.path] = (target.encode(), True)
            else:
                out[f.path] = (source.read_bytes(), False)
        return out
    wanted = [f.path for f in files if f.status != "D"]
    modes: dict[str, tuple[str, str]] = {}
    if wanted:
        listing = git(r.repo, "ls-tree", "-z", "--full-tree", "--end-of-options", r.head, "--", *wanted)
        for record in listing.split("\0"):
            if record and "\t" in record:
                meta, path = record.split("\t", 1)
                mode, kind, blob = meta.split()
                if kind == "blob":
                    modes[path] = (mode, blob)
    blobs_wanted = list(modes.items())
    data = run_git(
        r.repo, "cat-file", "--batch", data="".join(f"{blob}\n" for _, (_, blob) in blobs_wanted).encode()
    ).stdout
    pos = 0
    for path, (mode, _) in blobs_wanted:
        header_end = data.index(b"\n", pos)
        size = int(data[pos:header_end].split()[2])
        content = data[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        if mode == "120000":
            target = content.decode(errors="replace")
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
                raise InputError(
                    f"{path} in {r.head[:12]} of {r.repo} points outside the tree ({target!r}); refused",
                    tip="the evaluated tree may hold no absolute links or links that leave it",
                )
            out[path] = (content, True)
        else:
            out[path] = (content, False)
    for f in files:
        out.setdefault(f.path, None)
    return out


def apply_contents(tree: Path, contents: dict[str, tuple[bytes, bool] | None]) -> None:
    """Turn `tree` into HEAD's: each changed file replaced (unlinked first: the tree may share files with the
    cached BASE through hard links), added or removed."""
    for path, content in sorted(contents.items()):
        target = tree / path
        if os.path.lexists(target):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        if content is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        data, is_link = content
        if is_link:
            os.symlink(data.decode(errors="surrogateescape"), target)
        else:
            target.write_bytes(data)


def restore_base(tree: Path, base_tree: Path, paths: list[str]) -> None:
    """Put the files `paths` of `tree` back as they are in `base_tree` (linked), after `apply_contents`."""
    for path in sorted(paths):
        target, source = tree / path, base_tree / path
        if os.path.lexists(target):
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        if not os.path.lexists(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_dir():
            link_tree(source, target)
        else:
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
