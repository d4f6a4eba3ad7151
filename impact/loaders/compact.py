"""The compact snapshot: a whole evaluation in one small file that loads in tens of milliseconds.

Format: a NumPy `.npz` archive (zip of arrays; chosen because NumPy is already loaded for the analysis, it
needs no extra dependency, and each member decompresses straight into an array with no per-object parsing).
Strings are stored as newline-joined UTF-8 blobs. Store paths are stored as their 32-character hashes alone
where the rest of the path follows from the derivation name, as it does for nearly every path Nix makes
(`<hash>-<name>.drv`, `<hash>-<name>` for `out`, `<hash>-<name>-<output>` otherwise); the few that do not
are kept whole.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from impact.errors import InputError
from impact.model import STORE_DIR, DerivationGraph, EvalError

FORMAT = "impact-snapshot"
VERSION = 1
#: The first bytes of a version-2 snapshot.
MAGIC = b"impact-snapshot\n"
SUFFIX = ".impact"
_HASH = 32


def write_compact(graph: DerivationGraph, path: Path) -> None:
    """Write `graph` to `path` as a version-2 snapshot (memory-mapped on reading), atomically."""
    from impact.loaders import compact_v2

    compact_v2.write(graph, Path(path))


def _blob(strings: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _unblob(array: np.ndarray, count: int) -> list[str]:
    if count == 0:
        return []
    out = array.tobytes().decode("utf-8").split("\n")
    if len(out) != count:
        raise ValueError(f"expected {count} strings, found {len(out)}")
    return out


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
        h = p[len(prefix) : len(prefix) + _HASH]
        if p != f"{prefix}{h}-{name}.drv":
            exceptions["drv"][i] = p
        drv_hashes.append(h)
    out_hashes: list[str] = []
    for i in range(n):
        name = graph.names[i]
        for o, p in zip(graph.output_names[i], graph.output_paths[i]):
            h = p[len(prefix) : len(prefix) + _HASH]
            if p != f"{prefix}{h}-{name}{_output_suffix(o)}":
                exceptions["out"][f"{i}/{o}"] = p
                h = "_" * _HASH
            out_hashes.append(h)
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
    }
    arrays = {
        "header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
        "drv_hashes": np.frombuffer("".join(drv_hashes).encode("ascii"), dtype=np.uint8),
        "names": _blob(graph.names),
        "system_ids": graph.system_ids.astype(np.int16),
        "fixed_output": graph.fixed_output.astype(bool),
        "prefer_local_build": graph.prefer_local_build.astype(bool),
        "output_set_ids": np.array(output_set_ids, dtype=np.int16),
        "out_hashes": np.frombuffer("".join(out_hashes).encode("ascii"), dtype=np.uint8),
        "input_indptr": graph.input_indptr.astype(np.int64),
        "input_indices": graph.input_indices.astype(np.int32),
        "input_output_set": graph.input_output_set.astype(np.int16),
        "source_paths": _blob([p[len(prefix) :] if p.startswith(prefix) else p for p in graph.source_paths]),
        "source_indptr": graph.source_indptr.astype(np.int64),
        "source_indices": graph.source_indices.astype(np.int32),
        "job_attrs": _blob(graph.job_attrs),
        "job_jobset_ids": np.array([jobsets.index(j) for j in graph.job_jobsets], dtype=np.int8),
        "job_system_ids": np.array(
            [graph.systems.index(s) if s in graph.systems else -1 for s in graph.job_systems], dtype=np.int16
        ),
        "job_drv": graph.job_drv.astype(np.int32),
        "job_names": _blob(graph.job_names),
        "job_positions": _blob([p or "" for p in graph.job_positions]),
        "job_maintainers": _blob(["\x1f".join(m) for m in graph.job_maintainers]),
    }
    if any(s not in graph.systems for s in graph.job_systems):
        header["job_systems"] = graph.job_systems
        arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    return compact_v2.read_cached(Path(path), lambda: _read_v1(path))


def _read_v1(path: Path) -> DerivationGraph:
    """Load a version-1 snapshot (`.npz`), parsing every string."""
    import zipfile
    import zlib

    if not is_compact(Path(path)):
        raise InputError(
            f"{path}: damaged impact snapshot (not a zip archive holding a snapshot header)",
            tip="re-create it with `impact snapshot import`",
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        header = json.loads(arrays["header"].tobytes())
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise InputError(
                f"{path}: not an impact snapshot of version {VERSION}",
                tip="re-create it with `impact snapshot import`",
            )
        return _graph(header, arrays, str(path))
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (
        OSError,
        ValueError,
        KeyError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
        EOFError,
        zlib.error,
        NotImplementedError,
    ) as e:
        raise InputError(
            f"{path}: damaged impact snapshot ({e})", tip="re-create it with `impact snapshot import`"
        ) from None


def _graph(h: dict[str, Any], a: dict[str, np.ndarray], origin: str) -> DerivationGraph:
    n, jobs = h["derivations"], h["jobs"]
    prefix = STORE_DIR + "/"
    names = _unblob(a["names"], n)
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
    sources = [
        p if p.startswith("/") or p.startswith("fixed:") else prefix + p
        for p in _unblob(a["source_paths"], h["sources"])
    ]
    jobsets = h["jobsets"]
    systems = h["systems"]
    job_drv = a["job_drv"]
    job_systems = h.get("job_systems") or [systems[s] for s in a["job_system_ids"].tolist()]
    job_outputs_differ = h["job_outputs"]
    job_outputs = [
        job_outputs_differ.get(str(j)) or dict(zip(output_names[d], output_paths[d]))
        for j, d in enumerate(job_drv.tolist())
    ]
    return DerivationGraph(
        drv_paths=drv_paths,
        names=names,
        systems=systems,
        system_ids=a["system_ids"],
        fixed_output=a["fixed_output"],
        prefer_local_build=a.get("prefer_local_build"),
        output_names=output_names,
        output_paths=output_paths,
        features={int(i): tuple(f) for i, f in h["features"].items()},
        input_indptr=a["input_indptr"],
        input_indices=a["input_indices"],
        input_output_set=a["input_output_set"].astype(np.int32),
        output_sets=output_sets,
        source_paths=sources,
        source_indptr=a["source_indptr"],
        source_indices=a["source_indices"],
        job_attrs=_unblob(a["job_attrs"], jobs),
        job_jobsets=[jobsets[i] for i in a["job_jobset_ids"].tolist()],
        job_systems=job_systems,
        job_drv=job_drv,
        job_names=_unblob(a["job_names"], jobs),
        job_outputs=job_outputs,
        job_positions=[p or None for p in _unblob(a["job_positions"], jobs)],
        job_maintainers=[tuple(m.split("\x1f")) if m else () for m in _unblob(a["job_maintainers"], jobs)],
        eval_errors=[EvalError(*e) for e in h["eval_errors"]],
        origin=origin,
        meta=h.get("meta"),
    )
