"""The reference index of a nixpkgs tree: for every Nix file, what it reads (`impact.gitchange.facts`), and the
reverse maps the candidate search walks (who reads a file, who uses a name).

Every `.nix` file is parsed by Nix itself (`Nix.parse_files`, many files a process); a file Nix cannot parse is
kept with Nix's message (nothing can import it without failing, so it reads nothing). The facts of a file
depend only on its path and its content, so they are kept in impact's cache under the file's git blob id and
path: the second question on a tree parses only the files that changed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from impact.gitchange.facts import FileFacts, Reference, file_facts, min_bindings_of
from impact.gitchange.syntax import SyntaxMismatch, parse

#: Bump when the facts a file gives change meaning: older cache files are then ignored.
FACTS_VERSION = 17
#: How many index cache files are kept (one a base tree).
CACHE_KEEP = 4


@dataclass(frozen=True, slots=True)
class Reader:
    """A unit of a file that reads a path or uses a name."""

    file: str
    unit: str | None
    how: str
    #: For a file imported: how the unit uses its value (see `facts.Reference.context`).
    context: str = "value"
    #: For a name selected from something (`pkgs.foo`): that something's name (`?` for an expression).
    qualifier: str | None = None


@dataclass
class TreeIndex:
    """What every Nix file of one tree reads, and the reverse maps."""

    #: Path (relative to the tree's top) → facts, for every `.nix` file Nix parses.
    facts: dict[str, FileFacts]
    #: Path → Nix's message, for `.nix` files Nix cannot parse.
    unparsed: dict[str, str] = field(default_factory=dict)
    #: Every file of the tree (any kind), relative to its top.
    files: frozenset[str] = frozenset()
    _readers: dict[str, list[Reader]] | None = None
    _users: dict[str, list[Reader]] | None = None
    _reachable: dict[tuple[str, ...], frozenset[str]] = field(default_factory=dict)

    @property
    def readers(self) -> dict[str, list[Reader]]:
        """Referenced path → the units that name it."""
        if self._readers is None:
            out: dict[str, list[Reader]] = defaultdict(list)
            for f, facts in self.facts.items():
                for r in facts.references:
                    out[r.target].append(Reader(f, r.unit, r.how, r.context))
            self._readers = dict(out)
        return self._readers

    @property
    def users(self) -> dict[str, list[Reader]]:
        """Name → the units that use it (`how`: plain or value)."""
        if self._users is None:
            out: dict[str, list[Reader]] = defaultdict(list)
            for f, facts in self.facts.items():
                for name, per in facts.uses.items():
                    for unit, how in per.items():
                        out[name].append(Reader(f, unit, how))
                for name, qualifiers in facts.qualified.items():
                    for qualifier, per in qualifiers.items():
                        for unit, how in per.items():
                            out[name].append(Reader(f, unit, how, qualifier=qualifier))
            self._users = dict(out)
        return self._users

    def reachable(self, roots: tuple[str, ...]) -> frozenset[str]:
        """The files that evaluating `roots` can read, following every reference (a folder read whole or listed
        gives all its files, a folder imported its default.nix); the tree's top as a value (the source copied
        into the store) is not followed."""
        if roots in self._reachable:
            return self._reachable[roots]
        files = self.files | self.facts.keys()
        under: dict[str, list[str]] = defaultdict(list)
        for f in files:
            parts = f.split("/")
            for k in range(1, len(parts)):
                under["/".join(parts[:k])].append(f)
        seen: set[str] = set()
        todo = [r for r in roots if r in files]
        while todo:
            f = todo.pop()
            if f in seen:
                continue
            seen.add(f)
            facts = self.facts.get(f)
            for r in facts.references if facts is not None else ():
                t = r.target
                if t in files:
                    todo.append(t)
                elif r.how == "import" and t != "/":
                    todo.append("default.nix" if t == "." else f"{t}/default.nix")
                elif t != ".":
                    todo.extend(under.get(t, ()))
        self._reachable[roots] = frozenset(seen)
        return self._reachable[roots]

    def readers_of(self, path: str) -> list[Reader]:
        """The units that may read file `path`: those naming it, or naming a folder above it as a value
        (copied or read whole), as a prefix completed at evaluation time or as a listed directory, or
        importing the folder it is the `default.nix` of. The tree's top as a value is the source tree, which
        every commit changes: those readers are reported apart (`impact.analysis.change` knows them)."""
        parts = path.split("/")
        out: list[Reader] = list(self.readers.get(path, ()))
        for k in range(len(parts) - 1, -1, -1):
            folder = "/".join(parts[:k]) or "."
            for r in self.readers.get(folder, ()):
                direct_default = k == len(parts) - 1 and parts[-1] == "default.nix" and r.how == "import"
                if r.how in ("prefix", "readdir") or direct_default or (r.how == "value" and folder != "."):
                    out.append(r)
        return out


def facts_of_text(text: str, root: str, path: str = "") -> FileFacts:
    """The facts of the file `path` from its `nix-instantiate --parse` text (paths under `root`, the tree's top).

    A text this module cannot read (a printer this grammar does not know, nesting too deep for Python) is read
    the safe way: every path in it is a value reference of the whole file and every word a value use.
    """
    try:
        return file_facts(parse(text, root), min_bindings_of(path))
    except (SyntaxMismatch, RecursionError):
        return _coarse_facts(text, root)


def _coarse_facts(text: str, root: str) -> FileFacts:
    import re

    facts = FileFacts()
    for m in re.finditer(r"(?<![\w\"])(/[A-Za-z0-9._+\-/]*)", text):
        p = m.group(1)
        rel = "." if p == root else p[len(root) + 1 :] if p.startswith(root + "/") else p
        facts.references.append(Reference(rel, "value", None))
    for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_'\-]*", text):
        facts.use(m.group(), None, "value")
    facts.dynamic.append((None, "not read in detail (too deep or unknown syntax): every path and name counted"))
    return facts


# -- the cache ------------------------------------------------------------------------------------------------


def cache_folder() -> Path | None:
    """Where the facts of parsed files are kept: `nixfacts/` in impact's cache (`impact.loaders.cache`)."""
    from impact.loaders.cache import cache_dir

    folder = cache_dir()
    return None if folder is None else folder / "nixfacts"


def _facts_to_json(f: FileFacts) -> dict[str, object]:
    return {
        "units": list(f.units),
        "top": f.units_top,
        "local": sorted(f.local_units),
        "refs": [[r.target, r.how, r.unit, r.context] for r in f.references],
        "uses": {n: {("" if u is None else "=" + u): h for u, h in per.items()} for n, per in f.uses.items()},
        "dynamic": [[u, w] for u, w in f.dynamic],
        "formals": list(f.formals),
        "qualified": {
            n: {q: {("" if u is None else "=" + u): h for u, h in per.items()} for q, per in qs.items()}
            for n, qs in f.qualified.items()
        },
        "aliases": f.aliases,
    }


def _facts_from_json(d: Mapping[str, Any]) -> FileFacts:
    f = FileFacts()
    f.units = tuple(d["units"])
    f.units_top = bool(d.get("top"))
    f.local_units = frozenset(d.get("local") or ())
    f.references = [Reference(t, h, u, c) for t, h, u, c in d["refs"]]
    f.uses = {n: {(None if k == "" else k[1:]): h for k, h in per.items()} for n, per in d["uses"].items()}
    f.dynamic = [(u, w) for u, w in d["dynamic"]]
    f.formals = tuple(d["formals"])
    f.qualified = {
        n: {q: {(None if k == "" else k[1:]): h for k, h in per.items()} for q, per in qs.items()}
        for n, qs in d["qualified"].items()
    }
    f.aliases = dict(d["aliases"])
    return f


def _key(path: str, blob: str) -> str:
    return hashlib.sha1(f"{path}\0{blob}".encode()).hexdigest()


def load_cached(blobs: Mapping[str, str]) -> dict[str, tuple[FileFacts | None, str | None]]:
    """Facts (or parse errors) of the files whose (path, blob) a cached index holds."""
    folder = cache_folder()
    found: dict[str, tuple[FileFacts | None, str | None]] = {}
    if folder is None or not folder.is_dir():
        return found
    wanted = {_key(p, b): p for p, b in blobs.items()}
    files = sorted(folder.glob(f"nixfacts-v{FACTS_VERSION}-*.json.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for cached in files:
        try:
            with gzip.open(cached, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, ValueError, EOFError):
            continue
        if not isinstance(doc, dict):
            continue
        for key, value in doc.items():
            path = wanted.get(key)
            if path is None or path in found or not isinstance(value, dict):
                continue
            try:
                if "error" in value:
                    found[path] = (None, str(value["error"]))
                else:
                    found[path] = (_facts_from_json(value), None)
            except (KeyError, TypeError, ValueError):
                continue
        if len(found) == len(wanted):
            break
    return found


def store_cached(tree_id: str, entries: Mapping[str, tuple[str, FileFacts | None, str | None]]) -> None:
    """Write the index of one tree (path → (blob, facts, error)) for the next question; keep `CACHE_KEEP`."""
    from impact.writing import write_atomic

    folder = cache_folder()
    if folder is None:
        return
    doc = {
        _key(p, blob): ({"error": err} if facts is None else _facts_to_json(facts))
        for p, (blob, facts, err) in entries.items()
    }
    target = folder / f"nixfacts-v{FACTS_VERSION}-{tree_id[:16]}.json.gz"
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(target, gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), compresslevel=3))
        old = sorted(folder.glob(f"nixfacts-v{FACTS_VERSION}-*.json.gz"), key=lambda p: p.stat().st_mtime)
        # An index of an earlier FACTS_VERSION is never read again.
        other = [p for p in folder.glob("nixfacts-v*.json.gz") if not p.name.startswith(f"nixfacts-v{FACTS_VERSION}-")]
        for stale in old[:-CACHE_KEEP] + other:
            stale.unlink(missing_ok=True)


def build_index(
    root: Path,
    blobs: Mapping[str, str],
    parse_texts: ParseTexts,
    tree_id: str | None = None,
) -> TreeIndex:
    """The index of the tree at `root` whose files and git blob ids are `blobs` (path → blob).

    `parse_texts` runs Nix's parser on some files (absolute paths) and returns for each its printed text or
    Nix's error. Facts already in the cache for the same (path, blob) are reused.
    """
    nix_files = sorted(p for p in blobs if p.endswith(".nix"))
    cached = load_cached({p: blobs[p] for p in nix_files})
    todo = [p for p in nix_files if p not in cached]
    root_text = str(root)
    results: dict[str, tuple[FileFacts | None, str | None]] = dict(cached)
    if todo:
        texts = parse_texts([root / p for p in todo])
        for p, (text, error) in zip(todo, texts):
            results[p] = (None, error) if text is None else (facts_of_text(text, root_text, p), None)
    if tree_id is not None and todo:
        store_cached(tree_id, {p: (blobs[p], f, e) for p, (f, e) in results.items()})
    return TreeIndex(
        facts={p: f for p, (f, _) in results.items() if f is not None},
        unparsed={p: e for p, (f, e) in results.items() if f is None and e is not None},
        files=frozenset(blobs),
    )


class ParseTexts(Protocol):
    """Runs Nix's parser: absolute file paths → (printed text, None) or (None, Nix's error) each, in order."""

    def __call__(self, files: Sequence[Path]) -> list[tuple[str | None, str | None]]: ...
