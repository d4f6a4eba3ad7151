"""Loader for store derivations in Nix's ATerm form (`.drv` files), from a list of paths or a store folder.

A .drv file is one term: `Derive([outputs],[inputDrvs],[inputSrcs],system,builder,[args],[env])`, where
outputs are `(name,path,hashAlgo,hash)`, inputDrvs `(drvPath,[outputs])` and env `(name,value)`; strings are
double-quoted with the escapes `\\" \\\\ \\n \\r \\t`. Newer Nix writes `DrvWithVersion("xp-dyn-drv",…)` when a
derivation depends on a dynamic derivation's outputs; an input is then `(drvPath,([outputs],[(output,node)]))`.

Hand-written: no maintained Python package parses Nix's ATerm subset, and the grammar above (strings, lists
and tuples) is a few dozen lines; one regular expression finds every token, which keeps it fast enough for
a whole nixpkgs closure.

Where files are: a .drv path names `/nix/store/<hash>-<name>.drv`; on disk it may live elsewhere (a chroot
store keeps it under `ROOT/nix/store`, a copy may sit in any folder). `store_root` names such a chroot; with
none, each input is read from the folder of the .drv that names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Union

from impact.errors import InputError
from impact.loaders._attrs import declares_fixed_output, derivation_attrs, prefers_local_build, system_features
from impact.loaders._checks import check_acyclic
from impact.loaders._io import read_text
from impact.model import STORE_DIR, Derivation, DerivationGraph, EvalError, Job, path_name

#: A parsed ATerm value: a string, a list `[...]` or a tuple `(...)`.
Term = Union[str, list["Term"], tuple["Term", ...]]  # noqa: UP007  (a runtime alias: | cannot take the forward refs)

#: One token: a string (group 1), a bracket or comma (group 2), or any other non-blank character (group 3).
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|([\[\](),])|(\S)', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
_HEADERS = ("Derive(", "DrvWithVersion(")
_VERSIONS = ("xp-dyn-drv",)


class _SyntaxError(Exception):
    def __init__(self, what: str, offset: int) -> None:
        super().__init__(what)
        self.offset = offset


def _unescape(s: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), s) if "\\" in s else s


def _items(text: str, pos: int) -> tuple[list[Term], int]:
    """Parse the comma-separated values of the tuple opened just before `pos`, up to its `)`.

    One pass over the tokens with a stack of open lists and tuples (no recursion, one regular expression
    scan): return the values and the position after the closing `)`.
    """
    stack: list[tuple[list[Term], str]] = [([], ")")]
    expect_value, may_close = True, True
    for m in _TOKEN.finditer(text, pos):
        string, punct, other = m.groups()
        if string is not None or punct in ("[", "("):
            if not expect_value:
                raise _SyntaxError(f"expected ',' or {stack[-1][1]!r}", m.start())
            if string is not None:
                stack[-1][0].append(_unescape(string))
                expect_value, may_close = False, True
            else:
                stack.append(([], "]" if punct == "[" else ")"))
                may_close = True
        elif punct == ",":
            if expect_value:
                raise _SyntaxError("expected a string, list or tuple", m.start())
            expect_value, may_close = True, False
        elif punct is not None:
            items, closer = stack[-1]
            if punct != closer:
                raise _SyntaxError(f"expected ',' or {closer!r}", m.start())
            if not may_close:
                raise _SyntaxError("expected a string, list or tuple", m.start())
            stack.pop()
            if not stack:
                return items, m.end()
            stack[-1][0].append(items if closer == "]" else tuple(items))
            expect_value, may_close = False, True
        else:
            raise _SyntaxError("an unterminated string" if other == '"' else f"unexpected {other!r}", m.start())
    raise _SyntaxError("the text ends before the derivation does", len(text))


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def parse_term(text: str) -> tuple[str, list[Term]]:
    """Parse a .drv text into its version (`""` for `Derive`) and the seven fields; raises on bad syntax."""
    start = _skip(text, 0)
    if text.startswith(_HEADERS[0], start):
        version, pos = "", start + len(_HEADERS[0])
    elif text.startswith(_HEADERS[1], start):
        version, pos = None, start + len(_HEADERS[1])
    else:
        raise _SyntaxError("expected 'Derive(' (is this a .drv file?)", start)
    fields, end = _items(text, pos)
    if _skip(text, end) != len(text):
        raise _SyntaxError("text after the end of the derivation", _skip(text, end))
    if version is None:
        if not fields or fields[0] not in _VERSIONS:
            raise _SyntaxError(f"unknown derivation version {fields[0] if fields else ''!r}", pos)
        version = str(fields.pop(0))
    if len(fields) != 7:
        raise _SyntaxError(f"{len(fields)} fields where a derivation has 7", start)
    return version, fields


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _strings(term: Term, what: str) -> list[str]:
    if not isinstance(term, list) or not all(isinstance(s, str) for s in term):
        raise ValueError(f"{what} is not a list of strings")
    return term  # type: ignore[return-value]


def _tuples(term: Term, size: int, what: str) -> list[tuple[Term, ...]]:
    if not isinstance(term, list) or not all(isinstance(t, tuple) and len(t) == size for t in term):
        raise ValueError(f"{what} is not a list of {size}-tuples")
    return term  # type: ignore[return-value]


def _input_outputs(node: Term, drv: str) -> tuple[str, ...]:
    """The outputs used of one input: `["out"]`, or in `xp-dyn-drv` form `(["out"], [(output, node)])`."""
    if isinstance(node, tuple) and len(node) == 2:
        node = node[0]
    return tuple(sorted(_strings(node, f"the outputs used of input {drv}")))


def is_drv_path(path: str) -> bool:
    """True for an absolute path to a `.drv` file with no `.`/`..` step and no control character: what an
    input may name, since it decides which file is read next."""
    parts = path.split("/")
    return (
        path.startswith("/")
        and path.endswith(".drv")
        and not any(p in (".", "..") for p in parts)
        and not any(ord(c) < 0x20 for c in path)
    )


def _store_dir(outputs: Iterable[str], inputs: Iterable[str]) -> str:
    """The store directory a derivation's own paths are in (`/nix/store` unless Nix was told otherwise)."""
    for p in (*outputs, *inputs):
        if p.startswith("/") and "/" in p[1:]:
            return p.rsplit("/", 1)[0]
    return STORE_DIR


def parse_drv(text: str, path: str | Path) -> Derivation:
    """Parse the ATerm text of the .drv at store path `path`; bad text raises `InputError` naming the position.

    `path` may be where the file is on disk: its store path is its file name under the store directory its
    outputs name.
    """
    where = str(path)
    try:
        _, fields = parse_term(text)
    except _SyntaxError as e:
        raise InputError(
            f"{where}: not a Nix derivation (ATerm): {e} at {_position(text, e.offset)}",
            tip="give .drv files from a Nix store, or `nix show-derivation -r` JSON",
        ) from None
    try:
        outputs_t, inputs_t, srcs_t, system, _builder, _args, env_t = fields
        outputs: dict[str, str] = {}
        fixed = False
        for name, out_path, _algo, hash_ in _tuples(outputs_t, 4, "the outputs"):
            if not all(isinstance(x, str) for x in (name, out_path, hash_)):
                raise ValueError("an output is not four strings")
            outputs[str(name)] = str(out_path)
            fixed = fixed or bool(hash_)
        inputs: dict[str, tuple[str, ...]] = {}
        for drv, node in _tuples(inputs_t, 2, "the input derivations"):
            if not isinstance(drv, str) or not is_drv_path(drv):
                raise ValueError(f"input derivation {str(drv)[:120]!r} is not the store path of a .drv file")
            inputs[drv] = _input_outputs(node, drv)
        sources = tuple(_strings(srcs_t, "the input sources"))
        if not isinstance(system, str):
            raise ValueError("the system is not a string")
        env: dict[str, str] = {}
        for key, value in _tuples(env_t, 2, "the environment"):
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValueError("an environment entry is not two strings")
            env[key] = value
    except ValueError as e:
        raise InputError(f"{where}: not a Nix derivation (ATerm): {e}") from None
    attrs = derivation_attrs(env, None, where)
    base = Path(where).name
    drv_name = attrs.get("name")
    return Derivation(
        path=f"{_store_dir(outputs.values(), inputs)}/{base}",
        name=drv_name if isinstance(drv_name, str) else path_name(base).removesuffix(".drv"),
        system=system,
        outputs=outputs,
        fixed_output=fixed or declares_fixed_output(attrs),
        required_system_features=system_features(attrs, where),
        prefer_local_build=prefers_local_build(attrs),
        inputs=inputs,
        input_sources=sources,
    )


def _disk_path(store_path: str, store_root: Path | None, beside: Path | None) -> Path:
    """Where the .drv at `store_path` is on disk: under `store_root`, else beside the file naming it."""
    if store_root is not None:
        return store_root / store_path.lstrip("/")
    if beside is not None:
        return beside / Path(store_path).name
    return Path(store_path)


def read_closure(
    paths: Iterable[str | Path], store_root: str | Path | None = None, named_by: str | None = None
) -> list[Derivation]:
    """Parse the .drv files at `paths` and every input derivation they name, recursively.

    With `store_root` (a chroot store such as `local?root=ROOT`), a path may be a store path (`/nix/store/…`)
    or a file under ROOT, and every input is read from ROOT; without it, each input is read from the folder
    of the .drv that names it. `named_by` says where `paths` came from, for messages.
    """
    root = Path(store_root) if store_root is not None else None
    root_text = str(root).rstrip("/") + "/" if root is not None else None
    found: dict[str, Derivation] = {}
    stack: list[tuple[Path, str | None]] = []
    for p in paths:
        p_str = str(p)
        if root is not None and not (root_text and p_str.startswith(root_text)):
            stack.append((_disk_path(p_str, root, None), named_by))
        else:
            stack.append((Path(p_str), named_by))
    seen_files: set[Path] = set()
    while stack:
        file, named_by = stack.pop()
        if file in seen_files:
            continue
        seen_files.add(file)
        try:
            text = read_text(file)
        except InputError:
            if named_by is not None and not file.exists():
                raise InputError(
                    f"{named_by} names derivation {Path(file).name}, which is missing: no file {file}",
                    tip="copy the whole closure of .drv files, or pass the store root the derivations live in",
                ) from None
            raise
        drv = parse_drv(text, file)
        if drv.path in found:
            continue
        found[drv.path] = drv
        for input_path in drv.inputs:
            stack.append((_disk_path(input_path, root, None if root is not None else file.parent), str(file)))
    return list(found.values())


def load_drv_files(paths: Sequence[str | Path], store_root: str | Path | None = None) -> DerivationGraph:
    """The graph of the .drv files at `paths` and their whole closure (see `read_closure`), with no jobs."""
    origin = str(paths[0]) if len(paths) == 1 else f"{len(paths)} .drv files"
    return check_acyclic(DerivationGraph.from_records(read_closure(paths, store_root), origin=origin))


def load_store_dir(folder: str | Path) -> DerivationGraph:
    """The graph of every `*.drv` in `folder` (a store directory or a copy of one); the closure must be complete."""
    folder = Path(folder)
    files = sorted(folder.glob("*.drv"))
    if not files:
        raise InputError(
            f"{folder}: no .drv files and not a snapshot folder",
            tip="pass a store folder of .drv files, a snapshot folder (jobs.jsonl.gz + derivations.json.gz)"
            " or a .impact file",
        )
    drvs = [parse_drv(read_text(f), f) for f in files]
    known = {d.path for d in drvs}
    for d in drvs:
        for input_path in d.inputs:
            if input_path not in known:
                raise InputError(
                    f"{folder}: {Path(d.path).name} names input derivation {Path(input_path).name},"
                    " which is not in the folder",
                    tip="copy the whole closure of .drv files into the folder",
                )
    return check_acyclic(DerivationGraph.from_records(drvs, origin=str(folder)))


def load_jobs_from_store(
    jobs: Sequence[Job], errors: Sequence[EvalError] = (), origin: str = "<jobs>", store_root: str | Path | None = None
) -> DerivationGraph:
    """The graph of nix-eval-jobs `jobs`, their derivations read from the store (under `store_root` if given)."""
    paths = list(dict.fromkeys(j.drv_path for j in jobs))
    if not paths:
        return DerivationGraph.from_records([], [], errors, origin=origin)
    return check_acyclic(
        DerivationGraph.from_records(read_closure(paths, store_root, named_by=origin), jobs, errors, origin=origin)
    )
