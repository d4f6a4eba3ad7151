"""The compact snapshot: a whole evaluation in one small file that loads in tens of milliseconds.

Format: a NumPy `.npz` archive (zip of arrays; chosen because NumPy is already loaded for the analysis, it
needs no extra dependency, and each member decompresses straight into an array with no per-object parsing).
Strings are stored as newline-joined UTF-8 blobs. Store paths are stored as their 32-character hashes alone
where the rest of the path follows from the derivation name, as it does for nearly every path Nix makes
(`<hash>-<name>.drv`, `<hash>-<name>` for `out`, `<hash>-<name>-<output>` otherwise); the few that do not
are kept whole.

Hardened both ways, since a snapshot may come from anyone:
- the writer never writes what the reader cannot read back: a path that does not follow the usual shape, a
  string holding a newline (the blob separator) or that UTF-8 cannot encode, is kept whole in the header
  (`strings`, `exceptions`), and id arrays take the integer width their counts need;
- the reader checks every array before use (`validate_arrays`: header fields and types, dtypes, lengths,
  every index within its range), refuses members that would expand past a size limit (a zip bomb), and then
  the checks every loader shares (no dependency cycle, no job listed twice).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from impact.errors import InputError
from impact.loaders._checks import check_acyclic, check_unique_jobs
from impact.loaders._io import check_regular, expansion_limit
from impact.model import STORE_DIR, DerivationGraph, EvalError

FORMAT = "impact-snapshot"
#: The string arrays; one holding a newline or a string UTF-8 cannot encode keeps it in header["strings"].
_STRING_FIELDS = ("names", "source_paths", "job_attrs", "job_names", "job_positions", "job_maintainers")
VERSION = 1
#: The first bytes of a version-2 snapshot.
MAGIC = b"impact-snapshot\n"
SUFFIX = ".impact"
_HASH = 32


def write_compact(graph: DerivationGraph, path: Path) -> None:
    """Write `graph` to `path` as a version-2 snapshot (memory-mapped on reading), atomically; as version 1 when
    version 2 cannot hold it (`compact_v2.representable`: paths without a store hash, strings UTF-8 cannot
    encode), so that what is written always reads back the same."""
    from impact.loaders import compact_v2

    if compact_v2.representable(graph):
        compact_v2.write(graph, Path(path))
    else:
        write_compact_v1(graph, Path(path))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\n" not in text


def _blob(strings: list[str], kept: dict[str, str] | None = None) -> np.ndarray:
    """Strings joined by newlines as UTF-8; one that holds a newline or cannot be encoded goes into `kept`
    (index → string, stored in the header) and is left empty in the blob."""
    if kept is not None:
        for i, text in enumerate(strings):
            if not _encodable(text):
                kept[str(i)] = text
        if kept:
            strings = ["" if str(i) in kept else t for i, t in enumerate(strings)]
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _unblob(array: np.ndarray, count: int, kept: dict[str, str] | None = None) -> list[str]:
    if count == 0:
        return []
    out = array.tobytes().decode("utf-8").split("\n")
    if len(out) != count:
        raise ValueError(f"expected {count} strings, found {len(out)}")
    for i, text in (kept or {}).items():
        out[int(i)] = text
    return out


def _ids(values: list[int], top: int) -> np.ndarray:
    """`values` (each in [-1, top)) in the narrowest signed integer type that holds them."""
    for dtype in (np.int8, np.int16, np.int32):
        if top <= np.iinfo(dtype).max:
            return np.array(values, dtype=dtype)
    return np.array(values, dtype=np.int64)


def _hash_of(path: str, prefix: str, rest: str) -> str | None:
    """The 32-character hash of `path` when it is `<prefix><hash><rest>` with a plain ASCII hash; else None."""
    h = path[len(prefix) : len(prefix) + _HASH]
    if len(h) == _HASH and h.isascii() and "\n" not in h and path == f"{prefix}{h}{rest}":
        return h
    return None


def _output_suffix(output: str) -> str:
    return "" if output == "out" else "-" + output


def write_compact_v1(graph: DerivationGraph, path: Path) -> None:
    """Write `graph` to `path` in the version-1 format (a compressed `.npz`), atomically; kept for tests and for
    readers of older impact versions."""
    n = len(graph)
    prefix = STORE_DIR + "/"
    drv_hashes: list[str] = []
    exceptions: dict[str, Any] = {"drv": {}, "out": {}}
    for i, (p, name) in enumerate(zip(graph.drv_paths, graph.names)):
        h = _hash_of(p, prefix, f"-{name}.drv")
        if h is None:
            exceptions["drv"][i] = p
        drv_hashes.append(h or "_" * _HASH)
    out_hashes: list[str] = []
    for i in range(n):
        name = graph.names[i]
        for o, p in zip(graph.output_names[i], graph.output_paths[i]):
            h = _hash_of(p, prefix, f"-{name}{_output_suffix(o)}")
            if h is None:
                exceptions["out"][f"{i}/{o}"] = p
            out_hashes.append(h or "_" * _HASH)
    out_sets = {s: k for k, s in enumerate(graph.output_sets)}
    output_set_ids = []
    for names in graph.output_names:
        if names not in out_sets:
            out_sets[names] = len(out_sets)
        output_set_ids.append(out_sets[names])
    output_sets = list(out_sets)
    jobsets = list(dict.fromkeys(graph.job_jobsets))
    job_outputs_differ = {
        k: outs
        for k, outs in enumerate(graph.job_outputs)
        if outs != dict(zip(graph.output_names[graph.job_drv[k]], graph.output_paths[graph.job_drv[k]]))
    }
    strings: dict[str, dict[str, str]] = {k: {} for k in _STRING_FIELDS}
    maintainers = ["\x1f".join(m) for m in graph.job_maintainers]
    for k, position in enumerate(graph.job_positions):
        if position == "":  # the blob writes None as "": an empty position is kept apart
            strings["job_positions"][str(k)] = ""
    for k, m in enumerate(graph.job_maintainers):
        if any("\x1f" in x or not _encodable(x) for x in m) or m == ("",):
            strings["job_maintainers"][str(k)] = json.dumps(list(m))
    arrays = {
        "names": _blob(graph.names, strings["names"]),
        "source_paths": _blob(
            [p[len(prefix) :] if p.startswith(prefix) else p for p in graph.source_paths], strings["source_paths"]
        ),
        "job_attrs": _blob(graph.job_attrs, strings["job_attrs"]),
        "job_names": _blob(graph.job_names, strings["job_names"]),
        "job_positions": _blob([p or "" for p in graph.job_positions], strings["job_positions"]),
        "job_maintainers": _blob(
            ["" if str(k) in strings["job_maintainers"] else m for k, m in enumerate(maintainers)],
            strings["job_maintainers"],
        ),
    }
    for key in list(strings["source_paths"]):
        strings["source_paths"][key] = graph.source_paths[int(key)]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "origin": graph.origin,
        "derivations": n,
        "jobs": graph.job_count,
        "systems": graph.systems,
        "output_sets": [list(s) for s in output_sets],
        "jobsets": jobsets,
        "features": {str(i): list(f) for i, f in graph.features.items()},
        "exceptions": exceptions,
        "job_outputs": {str(k): v for k, v in job_outputs_differ.items()},
        "eval_errors": [[e.attr, e.error, e.jobset] for e in graph.eval_errors],
        "sources": len(graph.source_paths),
        "meta": graph.meta,
        "strings": {k: v for k, v in strings.items() if v},
    }
    jobset_index = {j: k for k, j in enumerate(jobsets)}
    system_index = {s: k for k, s in enumerate(graph.systems)}
    arrays |= {
        "drv_hashes": np.frombuffer("".join(drv_hashes).encode("ascii"), dtype=np.uint8),
        "system_ids": _ids(graph.system_ids.tolist(), len(graph.systems)),
        "fixed_output": graph.fixed_output.astype(bool),
        "prefer_local_build": graph.prefer_local_build.astype(bool),
        "output_set_ids": _ids(output_set_ids, len(output_sets)),
        "out_hashes": np.frombuffer("".join(out_hashes).encode("ascii"), dtype=np.uint8),
        "input_indptr": graph.input_indptr.astype(np.int64),
        "input_indices": graph.input_indices.astype(np.int32),
        "input_output_set": _ids(graph.input_output_set.tolist(), len(graph.output_sets)),
        "source_indptr": graph.source_indptr.astype(np.int64),
        "source_indices": graph.source_indices.astype(np.int32),
        "job_jobset_ids": _ids([jobset_index[j] for j in graph.job_jobsets], len(jobsets)),
        "job_system_ids": _ids([system_index.get(s, -1) for s in graph.job_systems], len(graph.systems)),
        "job_drv": graph.job_drv.astype(np.int32),
    }
    if any(s not in system_index for s in graph.job_systems):
        header["job_systems"] = graph.job_systems
    arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    from impact.writing import write_atomic

    write_atomic(Path(path), lambda f: np.savez_compressed(f, **arrays))  # type: ignore[arg-type]


def is_compact(path: Path) -> bool:
    """True when `path` is a compact snapshot file: version 2 (our magic bytes) or 1 (a zip holding our header)."""
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) == MAGIC:
                return True
    except OSError:
        return False
    import zipfile  # here, not at the top: a version-2 snapshot never needs it

    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return "header.npy" in z.namelist()
    except (zipfile.BadZipFile, OSError, NotImplementedError):
        return False


def _damaged(path: Path | str, what: str) -> InputError:
    return InputError(f"{path}: damaged impact snapshot ({what})", tip="re-create it with `impact snapshot import`")


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every member of the archive at `path` as an array, refusing members that would expand past the limit."""
    import zipfile

    check_regular(path)
    limit = expansion_limit(path.stat().st_size)
    with zipfile.ZipFile(path) as z:
        total = sum(i.file_size for i in z.infolist())
        if total > limit:
            raise _damaged(path, f"its members expand to {total:,} bytes, past the limit of {limit:,}")
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def read_compact(path: Path) -> DerivationGraph:
    """Load a compact snapshot of version 2 (memory-mapped, see `impact.loaders.compact_v2`) or 1 (`.npz`)."""
    from impact.loaders import compact_v2

    try:
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) == MAGIC:
                return compact_v2.read(Path(path))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: not a snapshot file") from None
    from impact.loaders.cache import read_cached

    return read_cached(Path(path), lambda: _read_v1(path))


def _read_v1(path: Path) -> DerivationGraph:
    """Load a version-1 snapshot (`.npz`), parsing every string, checking it whole before building the graph."""
    import zipfile
    import zlib

    if not is_compact(Path(path)):
        raise InputError(
            f"{path}: damaged impact snapshot (not a zip archive holding a snapshot header)",
            tip="re-create it with `impact snapshot import`",
        )
    try:
        arrays = _load_arrays(path)
        if "header" not in arrays or arrays["header"].dtype != np.uint8:
            raise _damaged(path, "no header")
        header = json.loads(arrays["header"].tobytes())
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
            raise InputError(
                f"{path}: not an impact snapshot of version {VERSION}",
                tip="re-create it with `impact snapshot import`",
            )
        validate_arrays(header, arrays, str(path))
        graph = _graph(header, arrays, str(path))
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except RecursionError:
        raise _damaged(path, "its header is nested too deeply") from None
    except (
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
        EOFError,
        zlib.error,
        NotImplementedError,
    ) as e:
        raise _damaged(path, " ".join(str(e).split())[:200]) from None
    return check_unique_jobs(check_acyclic(graph))


def _check(ok: bool, origin: str, what: str) -> None:
    if not ok:
        raise _damaged(origin, what)


def _is_list_of(value: Any, kind: type) -> bool:
    return isinstance(value, list) and all(isinstance(v, kind) for v in value)


def _in_range(array: np.ndarray, low: int, high: int) -> bool:
    return array.size == 0 or (int(array.min()) >= low and int(array.max()) < high)


def _indptr(a: dict[str, np.ndarray], key: str, rows: int, length: int, origin: str) -> None:
    indptr = a[key]
    _check(indptr.ndim == 1 and indptr.size == rows + 1, origin, f"{key} has {indptr.size} entries, not {rows + 1}")
    _check(
        int(indptr[0]) == 0 and int(indptr[-1]) == length and bool(np.all(np.diff(indptr) >= 0)),
        origin,
        f"{key} does not run from 0 to {length} in order",
    )


def validate_arrays(header: dict[str, Any], arrays: dict[str, np.ndarray], origin: str) -> None:
    """Check a loaded snapshot before any use: header fields and their types, each array's dtype and length,
    every index within its range (row ids in [0, derivations), jobset and system ids within their lists).

    Raises `InputError` naming `origin` and the first thing wrong. Independent of how the arrays were read, so
    any version of the format that yields the same arrays can call it.
    """
    h, a = header, arrays
    for key, kind in (
        ("derivations", int),
        ("jobs", int),
        ("sources", int),
        ("systems", list),
        ("output_sets", list),
        ("jobsets", list),
        ("features", dict),
        ("exceptions", dict),
        ("job_outputs", dict),
        ("eval_errors", list),
    ):
        _check(isinstance(h.get(key), kind) and not isinstance(h.get(key), bool), origin, f"header field {key}")
    n, jobs, sources = h["derivations"], h["jobs"], h["sources"]
    _check(min(n, jobs, sources) >= 0, origin, "a negative count in the header")
    _check(_is_list_of(h["systems"], str), origin, "header field systems is not a list of strings")
    _check(_is_list_of(h["jobsets"], str), origin, "header field jobsets is not a list of strings")
    _check(
        all(_is_list_of(s, str) for s in h["output_sets"]), origin, "header field output_sets is not lists of strings"
    )
    _check(all(_is_list_of(e, str) and len(e) == 3 for e in h["eval_errors"]), origin, "header field eval_errors")
    exc = h["exceptions"]
    _check(isinstance(exc.get("drv"), dict) and isinstance(exc.get("out"), dict), origin, "header field exceptions")
    strings = h.get("strings", {})
    _check(
        isinstance(strings, dict)
        and all(k in _STRING_FIELDS and isinstance(v, dict) for k, v in strings.items())
        and all(isinstance(t, str) for v in strings.values() for t in v.values()),
        origin,
        "header field strings",
    )
    _check(h.get("meta") is None or isinstance(h["meta"], dict), origin, "header field meta")
    uint8 = ("drv_hashes", "out_hashes", "names", "source_paths", "job_attrs", "job_names", "job_positions")
    integer = (
        "system_ids",
        "output_set_ids",
        "input_indptr",
        "input_indices",
        "input_output_set",
        "source_indptr",
        "source_indices",
        "job_jobset_ids",
        "job_system_ids",
        "job_drv",
    )
    for key in (*uint8, "job_maintainers", *integer, "fixed_output"):
        _check(key in a, origin, f"no {key} array")
        _check(a[key].ndim == 1, origin, f"{key} is not one-dimensional")
    for key in (*uint8, "job_maintainers"):
        _check(a[key].dtype == np.uint8, origin, f"{key} is not bytes")
    for key in integer:
        _check(a[key].dtype.kind == "i", origin, f"{key} is not integers")
    for key in ("fixed_output", "prefer_local_build"):
        _check(key not in a or (a[key].dtype == bool and a[key].size == n), origin, f"{key} is not {n} booleans")
    output_sets = h["output_sets"]
    for key, rows in (("system_ids", n), ("output_set_ids", n), ("job_drv", jobs)):
        _check(a[key].size == rows, origin, f"{key} has {a[key].size} entries, not {rows}")
    for key, rows in (("job_jobset_ids", jobs), ("job_system_ids", jobs)):
        _check(a[key].size == rows, origin, f"{key} has {a[key].size} entries, not {rows}")
    _check(a["drv_hashes"].size == n * _HASH, origin, "drv_hashes does not hold one hash per derivation")
    _check(_in_range(a["system_ids"], 0, len(h["systems"])), origin, "a system id out of range")
    _check(_in_range(a["output_set_ids"], 0, len(output_sets)), origin, "an output set id out of range")
    lengths = np.array([len(s) for s in output_sets], dtype=np.int64)
    outputs = int(lengths[a["output_set_ids"]].sum()) if n else 0
    _check(a["out_hashes"].size == outputs * _HASH, origin, "out_hashes does not hold one hash per output")
    _indptr(a, "input_indptr", n, a["input_indices"].size, origin)
    _check(_in_range(a["input_indices"], 0, n), origin, "an input derivation id out of range")
    _check(a["input_output_set"].size == a["input_indices"].size, origin, "input_output_set and input_indices differ")
    _check(_in_range(a["input_output_set"], 0, len(output_sets)), origin, "an input's output set id out of range")
    _indptr(a, "source_indptr", n, a["source_indices"].size, origin)
    _check(_in_range(a["source_indices"], 0, sources), origin, "a source id out of range")
    _check(_in_range(a["job_drv"], 0, n), origin, "a job's derivation id out of range")
    _check(_in_range(a["job_jobset_ids"], 0, len(h["jobsets"])), origin, "a job's jobset id out of range")
    job_systems = h.get("job_systems")
    if job_systems is not None:
        _check(_is_list_of(job_systems, str) and len(job_systems) == jobs, origin, "header field job_systems")
    else:
        _check(_in_range(a["job_system_ids"], 0, len(h["systems"])), origin, "a job's system id out of range")
    for key in ("drv",):
        _check(
            all(k.isdigit() and int(k) < n and isinstance(v, str) for k, v in exc[key].items()), origin, "exceptions"
        )
    for key, value in exc["out"].items():
        row, _, output = key.partition("/")
        _check(row.isdigit() and int(row) < n and isinstance(value, str), origin, f"output exception {key!r}")
        _check(output in output_sets[int(a["output_set_ids"][int(row)])], origin, f"output exception {key!r}")
    _check(
        all(k.isdigit() and int(k) < jobs and isinstance(v, dict) for k, v in h["job_outputs"].items()),
        origin,
        "header field job_outputs",
    )
    _check(
        all(k.isdigit() and int(k) < n and _is_list_of(v, str) for k, v in h["features"].items()),
        origin,
        "header field features",
    )
    for field, rows in (
        ("names", n),
        ("source_paths", sources),
        ("job_attrs", jobs),
        ("job_names", jobs),
        ("job_positions", jobs),
        ("job_maintainers", jobs),
    ):
        _check(all(k.isdigit() and int(k) < rows for k in strings.get(field, {})), origin, f"header strings of {field}")


def _graph(h: dict[str, Any], a: dict[str, np.ndarray], origin: str) -> DerivationGraph:
    n, jobs = h["derivations"], h["jobs"]
    kept = h.get("strings", {})
    prefix = STORE_DIR + "/"
    names = _unblob(a["names"], n, kept.get("names"))
    dh = a["drv_hashes"].tobytes().decode("ascii")
    drv_paths = [f"{prefix}{dh[k * _HASH : (k + 1) * _HASH]}-{name}.drv" for k, name in enumerate(names)]
    for i, p in h["exceptions"]["drv"].items():
        drv_paths[int(i)] = p
    output_sets = [tuple(s) for s in h["output_sets"]]
    set_ids = a["output_set_ids"].tolist()
    output_names = [output_sets[s] for s in set_ids]
    oh = a["out_hashes"].tobytes().decode("ascii")
    # One comprehension, hashes taken in order: most derivations have the single output `out`.
    hashes = iter([oh[k : k + _HASH] for k in range(0, len(oh), _HASH)])
    suffixes = [tuple(_output_suffix(o) for o in s) for s in output_sets]
    output_paths: list[tuple[str, ...]] = [
        (f"{prefix}{next(hashes)}-{name}",)
        if sfx == ("",)
        else tuple([f"{prefix}{next(hashes)}-{name}{x}" for x in sfx])
        for name, sfx in zip(names, [suffixes[s] for s in set_ids])
    ]
    for key, p in h["exceptions"]["out"].items():
        i, o = key.split("/", 1)
        row = list(output_paths[int(i)])
        row[output_names[int(i)].index(o)] = p
        output_paths[int(i)] = tuple(row)
    sources = [p if p.startswith(("/", "fixed:")) else prefix + p for p in _unblob(a["source_paths"], h["sources"])]
    for i, p in kept.get("source_paths", {}).items():
        sources[int(i)] = p
    jobsets = h["jobsets"]
    systems = h["systems"]
    job_drv = a["job_drv"].astype(np.int32)
    job_systems = h.get("job_systems") or [systems[s] for s in a["job_system_ids"].tolist()]
    job_outputs_differ = h["job_outputs"]
    job_outputs = [
        job_outputs_differ.get(str(j)) or dict(zip(output_names[d], output_paths[d]))
        for j, d in enumerate(job_drv.tolist())
    ]
    positions: list[str | None] = [p or None for p in _unblob(a["job_positions"], jobs)]
    for k, p in kept.get("job_positions", {}).items():
        positions[int(k)] = p
    maintainers = [tuple(m.split("\x1f")) if m else () for m in _unblob(a["job_maintainers"], jobs)]
    for k, m in kept.get("job_maintainers", {}).items():
        maintainers[int(k)] = tuple(json.loads(m))
    return DerivationGraph(
        drv_paths=drv_paths,
        names=names,
        systems=systems,
        system_ids=a["system_ids"].astype(np.int16),
        fixed_output=a["fixed_output"],
        prefer_local_build=a.get("prefer_local_build"),
        output_names=output_names,
        output_paths=output_paths,
        features={int(i): tuple(f) for i, f in h["features"].items()},
        input_indptr=a["input_indptr"].astype(np.int64),
        input_indices=a["input_indices"].astype(np.int32),
        input_output_set=a["input_output_set"].astype(np.int32),
        output_sets=output_sets,
        source_paths=sources,
        source_indptr=a["source_indptr"].astype(np.int64),
        source_indices=a["source_indices"].astype(np.int32),
        job_attrs=_unblob(a["job_attrs"], jobs, kept.get("job_attrs")),
        job_jobsets=[jobsets[i] for i in a["job_jobset_ids"].tolist()],
        job_systems=job_systems,
        job_drv=job_drv,
        job_names=_unblob(a["job_names"], jobs, kept.get("job_names")),
        job_outputs=job_outputs,
        job_positions=positions,
        job_maintainers=maintainers,
        eval_errors=[EvalError(*e) for e in h["eval_errors"]],
        origin=origin,
        meta=h.get("meta"),
    )
