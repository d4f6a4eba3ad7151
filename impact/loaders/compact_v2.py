"""The compact snapshot, version 2: a file that opens without parsing.

Layout: the 16 magic bytes `impact-snapshot\\n`, the header's length (8 bytes, little-endian), the header (UTF-8
JSON: counts, systems, output sets, jobsets, metadata, and where each array lies), then raw little-endian
arrays, each at a 64-byte-aligned offset. Reading maps the file (`mmap`) and views each array in place
(`numpy.frombuffer`), so opening costs the header alone, whatever the graph's size; the pages an answer never
touches are never read. Strings are kept as they are stored, decoded only for the rows printed: a store path
as its 32-byte hash beside the derivation name (`<hash>-<name>.drv`, `<hash>-<name>[-<output>]`; the few paths
that do not follow that pattern are stored whole), names and attributes as one UTF-8 blob with offsets.

Tables that the answers need and that used to be built on every start are built once, when the snapshot is
written, and stored: the reverse edges, the edges a change travels along (no edges into fixed-output
derivations), the jobs sorted by (jobset, attribute), lookups by drv hash, job attribute and package, and
whatever analysis tables the graph carries in `DerivationGraph.tables` when written (`impact snapshot import`
builds the source keys and source-tree rows there first, see `impact.analysis.tables`).

A snapshot is input like any other: the header is checked against a schema, every array's dtype, length and
place in the file are checked on opening, index arrays are range-checked before use (the base arrays on
opening, the stored tables on first use), and every string read checks its offsets, so a damaged or crafted
file gives one `InputError`, never a crash or an out-of-range read.
"""

from __future__ import annotations

import bisect
import json
import mmap
import os
import re
import sys
import typing
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from impact.errors import InputError
from impact.model import (
    STORE_DIR,
    TABLE_BUILDERS,
    CodedColumn,
    DerivationGraph,
    EvalError,
    LazyColumn,
    Stored,
    coded,
    job_package,
)

FORMAT = "impact-snapshot"
VERSION = 2
MAGIC = b"impact-snapshot\n"
_ALIGN = 64
_HASH = 32
_PREFIX = STORE_DIR + "/"
#: The dtype each array is stored with (little-endian); a file that says otherwise is refused.
DTYPES: dict[str, str] = {
    "drv_hashes": "|u1",
    "names.data": "|u1",
    "names.offsets": "<i8",
    "drv_exception_rows": "<i8",
    "drv_exceptions.data": "|u1",
    "drv_exceptions.offsets": "<i8",
    "system_ids": "<i2",
    "fixed_output": "|b1",
    "prefer_local_build": "|b1",
    "output_set_ids": "<i2",
    "output_indptr": "<i8",
    "out_hashes": "|u1",
    "out_exception_ids": "<i8",
    "out_exceptions.data": "|u1",
    "out_exceptions.offsets": "<i8",
    "input_indptr": "<i8",
    "input_indices": "<i4",
    "input_output_set": "<i4",
    "sources.data": "|u1",
    "sources.offsets": "<i8",
    "source_indptr": "<i8",
    "source_indices": "<i4",
    "job_attrs.data": "|u1",
    "job_attrs.offsets": "<i8",
    "job_jobset_ids": "<i2",
    "job_system_ids": "<i2",
    "job_drv": "<i4",
    "job_names.data": "|u1",
    "job_names.offsets": "<i8",
    "job_positions.data": "|u1",
    "job_positions.offsets": "<i8",
    "job_maintainers.data": "|u1",
    "job_maintainers.offsets": "<i8",
    "job_output_rows": "<i8",
    "job_outputs.data": "|u1",
    "job_outputs.offsets": "<i8",
    "drv_hash_sorted": "|u1",
    "drv_hash_order": "<i4",
    "job_attr_order": "<i4",
    "job_package_order": "<i4",
}
#: Stored tables: name → the arrays' dtypes (table arrays are named `table.<name>.<k>`).
TABLES: dict[str, tuple[str, ...]] = {
    "consumers": ("<i8", "<i4", "<i8"),
    "propagation": ("<i8", "<i4"),
    "job_order": ("<i8",),
    "source_keys": ("<i8", "<i8", "<i8", "<i8", "<i8"),
    "source_tree": ("<i8",),
    "levels": ("<i4", "<i8", "<i8", "<i8"),
    "package_roots": ("<i8", "<i8", "<i8"),
}


def _damaged(origin: str, what: str) -> InputError:
    return InputError(f"{origin}: damaged impact snapshot ({what})", tip="re-create it with `impact snapshot import`")


#: The header's last field: the CRC-32 of the header's text with this field's value written as `_NO_CRC`.
_HEADER_CRC = "header_crc32"
_NO_CRC = "00000000"
_SEAL = f'"{_HEADER_CRC}": "'.encode()


def _sealed(head: bytes) -> bytes:
    """The header text with its own CRC-32 filled into its last field."""
    at = head.rindex(_SEAL) + len(_SEAL)
    return head[:at] + b"%08x" % zlib.crc32(head) + head[at + len(_NO_CRC) :]


def _seal_holds(head: bytes) -> bool:
    """True when the header's CRC-32 field matches its text, or when it has none (written before checksums)."""
    at = head.rfind(_SEAL)
    if at < 0:
        return True
    at += len(_SEAL)
    value = head[at : at + len(_NO_CRC)]
    if head[at + len(_NO_CRC) : at + len(_NO_CRC) + 1] != b'"' or not re.fullmatch(rb"[0-9a-f]{8}", value):
        return False
    return zlib.crc32(head[:at] + _NO_CRC.encode() + head[at + len(_NO_CRC) :]) == int(value, 16)


# -- writing ----------------------------------------------------------------------------------------------


def _blob(name: str, strings: Sequence[str], arrays: dict[str, np.ndarray]) -> None:
    encoded = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    arrays[f"{name}.data"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    arrays[f"{name}.offsets"] = offsets


def _hash_of(path: str) -> bytes:
    return path[len(_PREFIX) : len(_PREFIX) + _HASH].encode("ascii", "replace").ljust(_HASH, b"_")


_STORE_HASH = re.compile(r"^/nix/store/[0-9a-df-np-sv-z]{32}-")


def representable(graph: DerivationGraph) -> bool:
    """True when version 2 can hold `graph`: it finds derivations by their 32-character store hash, so every drv
    path must have one (and be unique by it), and every string must encode as UTF-8. A graph of odd paths or
    names (a hostile or hand-made evaluation) is kept in version 1, which stores any string."""
    drvs = list(graph.drv_paths)
    if not all(_STORE_HASH.match(p) for p in drvs) or len({_hash_of(p) for p in drvs}) != len(drvs):
        return False
    strings = (
        *graph.names,
        *drvs,
        *(p for paths in graph.output_paths for p in paths),
        *graph.source_paths,
        *graph.job_attrs,
        *graph.job_names,
        *(p or "" for p in graph.job_positions),
        *(m for ms in graph.job_maintainers for m in ms),
    )
    try:
        for text in strings:
            text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    # Maintainers are stored joined by \x1f: an empty one, or one holding \x1f, would not come back.
    return all(m and "\x1f" not in m for ms in graph.job_maintainers for m in ms)


def _output_suffix(output: str) -> str:
    return "" if output == "out" else "-" + output


def _none(graph: DerivationGraph) -> None:
    return None


def write(graph: DerivationGraph, path: Path) -> None:
    """Write `graph` as a version-2 snapshot at `path`, atomically (a temporary file, then a rename)."""
    n = len(graph)
    names = list(graph.names)
    drv_paths = list(graph.drv_paths)
    arrays: dict[str, np.ndarray] = {}
    drv_hashes = [_hash_of(p) for p in drv_paths]
    drv_exceptions = [
        (i, p)
        for i, (p, name, h) in enumerate(zip(drv_paths, names, drv_hashes))
        if p != f"{_PREFIX}{h.decode()}-{name}.drv"
    ]
    arrays["drv_hashes"] = np.frombuffer(b"".join(drv_hashes), dtype=np.uint8)
    _blob("names", names, arrays)
    arrays["drv_exception_rows"] = np.array([i for i, _ in drv_exceptions], dtype=np.int64)
    _blob("drv_exceptions", [p for _, p in drv_exceptions], arrays)
    arrays["system_ids"] = np.asarray(graph.system_ids, dtype=np.int16)
    arrays["fixed_output"] = np.asarray(graph.fixed_output, dtype=bool)
    arrays["prefer_local_build"] = np.asarray(graph.prefer_local_build, dtype=bool)
    output_sets: dict[tuple[str, ...], int] = {}
    set_ids = []
    out_hashes: list[bytes] = []
    out_exceptions: list[tuple[int, str]] = []
    output_indptr = np.zeros(n + 1, dtype=np.int64)
    for i, (name, outs, paths) in enumerate(zip(names, graph.output_names, graph.output_paths)):
        set_ids.append(output_sets.setdefault(tuple(outs), len(output_sets)))
        for o, p in zip(outs, paths):
            h = _hash_of(p)
            if p != f"{_PREFIX}{h.decode()}-{name}{_output_suffix(o)}":
                out_exceptions.append((len(out_hashes), p))
            out_hashes.append(h)
        output_indptr[i + 1] = len(out_hashes)
    arrays["output_set_ids"] = np.array(set_ids, dtype=np.int16)
    arrays["output_indptr"] = output_indptr
    arrays["out_hashes"] = np.frombuffer(b"".join(out_hashes), dtype=np.uint8)
    arrays["out_exception_ids"] = np.array([k for k, _ in out_exceptions], dtype=np.int64)
    _blob("out_exceptions", [p for _, p in out_exceptions], arrays)
    arrays["input_indptr"] = np.asarray(graph.input_indptr, dtype=np.int64)
    arrays["input_indices"] = np.asarray(graph.input_indices, dtype=np.int32)
    arrays["input_output_set"] = np.asarray(graph.input_output_set, dtype=np.int32)
    _blob("sources", [p.removeprefix(_PREFIX) if p.startswith(_PREFIX) else p for p in graph.source_paths], arrays)
    arrays["source_indptr"] = np.asarray(graph.source_indptr, dtype=np.int64)
    arrays["source_indices"] = np.asarray(graph.source_indices, dtype=np.int32)
    job_attrs = list(graph.job_attrs)
    _blob("job_attrs", job_attrs, arrays)
    jobsets, jobset_ids = coded(graph.job_jobsets)
    job_systems, job_system_ids = coded(graph.job_systems)
    arrays["job_jobset_ids"] = jobset_ids.astype(np.int16)
    arrays["job_system_ids"] = job_system_ids.astype(np.int16)
    arrays["job_drv"] = np.asarray(graph.job_drv, dtype=np.int32)
    _blob("job_names", list(graph.job_names), arrays)
    _blob("job_positions", [p or "" for p in graph.job_positions], arrays)
    _blob("job_maintainers", ["\x1f".join(m) for m in graph.job_maintainers], arrays)
    job_outputs = [
        (k, outs)
        for k, (outs, d) in enumerate(zip(graph.job_outputs, graph.job_drv.tolist()))
        if dict(outs) != dict(zip(graph.output_names[d], graph.output_paths[d]))
    ]
    arrays["job_output_rows"] = np.array([k for k, _ in job_outputs], dtype=np.int64)
    _blob("job_outputs", [json.dumps(dict(o)) for _, o in job_outputs], arrays)
    hash_matrix = arrays["drv_hashes"].reshape(n, _HASH) if n else np.zeros((0, _HASH), dtype=np.uint8)
    hash_order = np.argsort(hash_matrix.view(f"S{_HASH}").ravel(), kind="stable") if n else np.zeros(0, np.int64)
    arrays["drv_hash_sorted"] = np.ascontiguousarray(hash_matrix[hash_order]).ravel()
    arrays["drv_hash_order"] = hash_order.astype(np.int32)
    arrays["job_attr_order"] = np.array(sorted(range(len(job_attrs)), key=job_attrs.__getitem__), dtype=np.int32)
    packages = list(graph.job_packages)
    arrays["job_package_order"] = np.array(sorted(range(len(packages)), key=packages.__getitem__), dtype=np.int32)
    # Every registered table (the model's, and the analyses' imported so far): built now unless the graph has it.
    tables: dict[str, int] = {}
    for key, dtypes in TABLES.items():
        build = TABLE_BUILDERS.get(key)
        value = graph.derived(key, build or _none) if build is not None or key in graph.tables else None
        parts = value if isinstance(value, tuple) else (value,)
        if len(parts) != len(dtypes) or not all(isinstance(a, np.ndarray) for a in parts):
            continue
        for k, (part, dtype) in enumerate(zip(parts, dtypes)):
            arrays[f"table.{key}.{k}"] = np.asarray(part, dtype=np.dtype(dtype))
        tables[key] = len(parts)
    layout: dict[str, list[Any]] = {}
    checksums: dict[str, int] = {}
    offset = 0
    for name, array in arrays.items():
        array = arrays[name] = np.ascontiguousarray(array, dtype=np.dtype(DTYPES.get(name) or array.dtype.str))
        layout[name] = [offset, array.dtype.str, int(array.shape[0])]
        checksums[name] = zlib.crc32(array.data)
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    header = {
        "format": FORMAT,
        "version": VERSION,
        "origin": graph.origin,
        "derivations": n,
        "edges": graph.edge_count,
        "outputs": len(out_hashes),
        "jobs": graph.job_count,
        "systems": list(graph.systems),
        "output_sets": [list(s) for s in output_sets],
        "edge_output_sets": [list(s) for s in graph.output_sets],
        "sources": len(graph.source_paths),
        "jobsets": jobsets,
        "job_systems": job_systems,
        "features": {str(i): list(f) for i, f in graph.features.items()},
        "eval_errors": [[e.attr, e.error, e.jobset] for e in graph.eval_errors],
        "meta": graph.meta,
        "tables": tables,
        "arrays": layout,
        "checksums": checksums,
        _HEADER_CRC: _NO_CRC,  # last: the header's own CRC-32, computed with this field as written here
    }
    head = _sealed(json.dumps(header).encode("utf-8"))
    start = -(-(len(MAGIC) + 8 + len(head)) // _ALIGN) * _ALIGN

    def fill(f: IO[bytes]) -> None:
        f.write(MAGIC + len(head).to_bytes(8, "little") + head)
        f.write(b"\0" * (start - len(MAGIC) - 8 - len(head)))
        for array in arrays.values():
            f.write(array.tobytes())
            f.write(b"\0" * (-array.nbytes % _ALIGN))

    from impact.writing import write_atomic

    write_atomic(path, fill)


# -- reading ----------------------------------------------------------------------------------------------


class _File:
    """The mapped file: its header and its arrays, each checked for dtype, length and place when first viewed."""

    def __init__(self, path: Path) -> None:
        self.origin = str(path)
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < len(MAGIC) + 8:
                raise self.damaged("too short")
            self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        length = int.from_bytes(self.map[len(MAGIC) : len(MAGIC) + 8], "little")
        if length > size - len(MAGIC) - 8:
            raise self.damaged("header longer than the file")
        raw = self.map[len(MAGIC) + 8 : len(MAGIC) + 8 + length]
        if not _seal_holds(raw):
            raise self.damaged("the header does not match its checksum")
        try:
            self.header = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise self.damaged(f"header: {e}") from None
        self.start = -(-(len(MAGIC) + 8 + length) // _ALIGN) * _ALIGN
        self.size = size
        _check_header(self.header, self.damaged)
        self._layout: dict[str, Any] = self.header["arrays"]
        #: CRC-32 of each array (files written before checksums have none: their arrays are only range-checked).
        self.checksums: dict[str, int] | None = self.header.get("checksums")
        self._verified: set[str] = set()

    def damaged(self, what: str) -> InputError:
        return _damaged(self.origin, what)

    def array(self, name: str, dtype: str | None = None, count: int | None = None) -> np.ndarray:
        """The array `name`, viewed in place; its dtype (and length, when given) must be as expected."""
        spec = self._layout.get(name)
        if not (isinstance(spec, list) and len(spec) == 3):
            raise self.damaged(f"array {name} missing")
        offset, stored, length = spec
        want = dtype or DTYPES[name]
        if stored != want:
            raise self.damaged(f"array {name} is {stored}, expected {want}")
        if not (isinstance(offset, int) and isinstance(length, int) and offset >= 0 and length >= 0):
            raise self.damaged(f"array {name}: bad offset or length")
        if count is not None and length != count:
            raise self.damaged(f"array {name} holds {length} values, expected {count}")
        itemsize = np.dtype(want).itemsize
        begin = self.start + offset
        if begin % _ALIGN or begin + length * itemsize > self.size:
            raise self.damaged(f"array {name} lies outside the file")
        if self.checksums is not None and name not in self._verified:
            if zlib.crc32(memoryview(self.map)[begin : begin + length * itemsize]) != self.checksums.get(name):
                raise self.damaged(f"array {name} does not match its checksum")
            self._verified.add(name)
        return np.frombuffer(self.map, dtype=np.dtype(want), count=length, offset=begin)

    def text(self, name: str, count: int) -> _Blob:
        """The string blob `name` holding `count` strings."""
        data = self.array(f"{name}.data")
        offsets = self.array(f"{name}.offsets", count=count + 1)
        return _Blob(self, name, data, offsets, count)


class _Blob:
    """`count` UTF-8 strings stored back to back, with their offsets; each read checks its offsets."""

    def __init__(self, file: _File, name: str, data: np.ndarray, offsets: np.ndarray, count: int) -> None:
        self.file, self.name, self.data, self.offsets, self.count = file, name, data, offsets, count
        # Plain memoryviews: indexing them gives Python ints and bytes without a numpy scalar per read.
        self._offsets = _ints(offsets)
        self._bytes = data.data

    def item(self, k: int) -> str:
        lo, hi = self._offsets[k], self._offsets[k + 1]
        if not 0 <= lo <= hi <= self.data.size:
            raise self.file.damaged(f"{self.name}: string {k} lies outside its data")
        try:
            return str(self._bytes[lo:hi], "utf-8")
        except UnicodeDecodeError:
            raise self.file.damaged(f"{self.name}: string {k} is not UTF-8") from None

    def all(self) -> list[str]:
        if self.count == 0:
            return []
        offsets = self.offsets
        if offsets[0] != 0 or offsets[-1] != self.data.size or (np.diff(offsets) < 0).any():
            raise self.file.damaged(f"{self.name}: offsets out of order")
        raw = self.data.tobytes()
        bounds = zip(offsets[:-1].tolist(), offsets[1:].tolist())
        try:
            if raw.isascii():
                text = raw.decode("ascii")
                return [text[lo:hi] for lo, hi in bounds]
            return [raw[lo:hi].decode("utf-8") for lo, hi in bounds]
        except UnicodeDecodeError:
            raise self.file.damaged(f"{self.name}: not UTF-8") from None

    def column(self, convert: Callable[[str], Any] | None = None) -> LazyColumn[Any]:
        if convert is None:
            return LazyColumn(self.count, self.item, self.all)
        return LazyColumn(self.count, lambda k: convert(self.item(k)), lambda: [convert(s) for s in self.all()])


class _Sparse:
    """Strings for a few rows of many (paths that break the pattern, job outputs that differ): sorted rows and
    a blob, looked up by binary search."""

    def __init__(self, f: _File, rows: str, blob: str, bound: int) -> None:
        self.rows = f.array(rows)
        if self.rows.size and (int(self.rows[0]) < 0 or int(self.rows[-1]) >= bound or (np.diff(self.rows) <= 0).any()):
            raise f.damaged(f"{rows}: rows out of order or range")
        self.blob = f.text(blob, self.rows.size)

        self._rows = _ints(self.rows)

    def get(self, row: int) -> str | None:
        if not self._rows:
            return None
        q = bisect.bisect_left(self._rows, row)
        return self.blob.item(q) if q < len(self._rows) and self._rows[q] == row else None


def _ints(array: np.ndarray) -> Sequence[int]:
    """An integer array as a sequence of Python ints (a memoryview on a little-endian machine, else a list)."""
    if array.dtype.byteorder in "=|" or (array.dtype.byteorder == "<" and sys.byteorder == "little"):
        return typing.cast(Sequence[int], array.data.cast("B").cast(array.dtype.char))  # type: ignore[arg-type]
    return array.tolist()  # type: ignore[no-any-return]


def _check_header(h: Any, damaged: Callable[[str], InputError]) -> None:
    if not isinstance(h, dict) or h.get("format") != FORMAT:
        raise damaged("not an impact snapshot header")
    if h.get("version") != VERSION:
        raise InputError(
            f"snapshot version {h.get('version')!r} is not one this impact reads (1 or 2)",
            tip="re-create it with `impact snapshot import`",
        )
    counts = ("derivations", "edges", "outputs", "jobs", "sources")
    if not all(isinstance(h.get(k), int) and 0 <= h[k] < 1 << 40 for k in counts):
        raise damaged("bad counts in the header")

    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(s, str) for s in value)

    for key in ("systems", "jobsets", "job_systems"):
        if not strings(h.get(key)):
            raise damaged(f"header {key}")
        if len(set(h[key])) != len(h[key]):  # a name coded twice: lookups by it would miss half its rows
            raise damaged(f"header {key} names one twice")
    for key in ("output_sets", "edge_output_sets"):
        if not (isinstance(h.get(key), list) and all(strings(s) for s in h[key])):
            raise damaged(f"header {key}")
    if not (isinstance(h.get("features"), dict) and all(strings(f) for f in h["features"].values())):
        raise damaged("header features")
    if not (isinstance(h.get("eval_errors"), list) and all(strings(e) and len(e) == 3 for e in h["eval_errors"])):
        raise damaged("header eval_errors")
    if not (isinstance(h.get("meta"), dict) and all(isinstance(v, str) for v in h["meta"].values())):
        raise damaged("header meta")
    if not isinstance(h.get("arrays"), dict) or not isinstance(h.get("tables"), dict):
        raise damaged("header arrays")
    if not isinstance(h.get("origin", ""), str):
        raise damaged("header origin")
    checksums = h.get("checksums", {})
    if not (isinstance(checksums, dict) and all(type(v) is int for v in checksums.values())):
        raise damaged("header checksums")


def _check_csr(
    damaged: Callable[[str], InputError], what: str, indptr: np.ndarray, indices: np.ndarray, bound: int
) -> None:
    """`indptr` runs from 0 to len(indices) without going back, and every index lies in [0, bound)."""
    if indptr.size == 0 or indptr[0] != 0 or indptr[-1] != indices.size:
        raise damaged(f"{what}: row pointers do not span the edges")
    if indptr.size > 1 and (indptr[1:] < indptr[:-1]).any():
        raise damaged(f"{what}: row pointers go back")
    _check_range(damaged, what, indices, bound)


def _check_range(damaged: Callable[[str], InputError], what: str, values: np.ndarray, bound: int) -> None:
    if values.size and (int(values.min()) < 0 or int(values.max()) >= bound):
        raise damaged(f"{what}: index out of range")


class _HashIndex(Mapping[str, int]):
    """Derivation path → row, by binary search over the snapshot's sorted drv hashes (no dict of every path)."""

    def __init__(self, graph: DerivationGraph, sorted_hashes: np.ndarray, order: np.ndarray) -> None:
        self._graph, self._order = graph, _ints(order)
        self._bytes = sorted_hashes.view(np.uint8).data
        self._size = int(sorted_hashes.size)

    def _hash(self, pos: int) -> bytes:
        return bytes(self._bytes[pos * _HASH : (pos + 1) * _HASH])

    def get(self, path: str, default: Any = None) -> Any:  # type: ignore[override]
        if not isinstance(path, str) or not path.startswith(_PREFIX):
            return default
        try:
            key = path[len(_PREFIX) : len(_PREFIX) + _HASH].encode("ascii")
        except UnicodeEncodeError:
            return default
        pos = bisect.bisect_left(range(self._size), key, key=self._hash)
        n = len(self._graph)
        while pos < self._size and self._hash(pos) == key:
            row = self._order[pos]
            if 0 <= row < n and self._graph.drv_paths[row] == path:
                return row
            pos += 1
        return default

    def __getitem__(self, path: str) -> int:
        row = self.get(path)
        if row is None:
            raise KeyError(path)
        return int(row)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.get(path) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph.drv_paths)

    def __len__(self) -> int:
        return len(self._graph)


class _SortedLookup:
    """Rows sharing a key, by binary search over rows stored sorted by that key (`key_of(row)`).

    The stored order is checked on first use against `all_keys()` (every row's key): a permutation of the rows,
    sorted by key (and with `unique`, no key twice). A binary search over an order that is not would miss rows.
    """

    def __init__(
        self,
        order: np.ndarray,
        key_of: Callable[[int], Any],
        count: int,
        damaged: Callable[[str], InputError],
        all_keys: Callable[[], Sequence[Any]],
        what: str,
        unique: bool = False,
    ):
        self._order, self._key_of, self._count, self._damaged = order, key_of, count, damaged
        self._all_keys, self._what, self._unique = all_keys, what, unique
        self._checked = False

    def check(self) -> None:
        """Refuse the stored order unless it sorts every row by its key (once; later calls return at once)."""
        if self._checked:
            return
        if self._order.size != self._count or not _is_permutation(self._order, self._count):
            raise self._damaged(f"{self._what}: not an order of the rows")
        keys = self._all_keys()
        ordered = [keys[r] for r in _ints(self._order)]
        if ordered != sorted(ordered):  # sorting what is sorted is one linear pass
            raise self._damaged(f"{self._what}: out of order")
        if self._unique and len(set(ordered)) != len(ordered):
            raise self._damaged(f"{self._what}: a key is listed twice")
        self._checked = True

    def _key(self, row: Any) -> Any:
        r = int(row)
        if not 0 <= r < self._count:
            raise self._damaged("lookup: row out of range")
        return self._key_of(r)

    def get(self, key: Any, default: Any = ()) -> Any:
        self.check()
        lo = bisect.bisect_left(self._order, key, key=self._key)
        rows = []
        while lo < self._order.size and self._key(self._order[lo]) == key:
            rows.append(int(self._order[lo]))
            lo += 1
        return sorted(rows) if rows else default


def _is_permutation(order: np.ndarray, count: int) -> bool:
    """True when `order` holds each of 0…count-1 exactly once."""
    if order.size != count:
        return False
    if count == 0:
        return True
    if int(order.min()) < 0 or int(order.max()) >= count:
        return False
    return bool((np.bincount(order, minlength=count) == 1).all())


class _JobIndex(Mapping[tuple[str, str], int]):
    """(jobset, attr) → job row, by binary search over the jobs sorted by (jobset, attribute)."""

    def __init__(self, graph: DerivationGraph, codes: np.ndarray, jobsets: list[str], lookup: _SortedLookup) -> None:
        self._graph, self._lookup = graph, lookup
        self._code = {js: c for c, js in enumerate(jobsets)}

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] in self._code):
            return default
        rows = self._lookup.get((self._code[key[0]], key[1]))
        return rows[0] if rows else default

    def __getitem__(self, key: tuple[str, str]) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return int(row)

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def _all(self) -> dict[tuple[str, str], int]:
        g = self._graph
        return {(js, a): k for k, (js, a) in enumerate(zip(g.job_jobsets, g.job_attrs))}

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._all())

    def items(self) -> Any:
        return self._all().items()

    def __len__(self) -> int:
        return self._graph.job_count


def checksummed(path: Path) -> bool:
    """True when the version-2 file at `path` carries checksums (a copy written before them is made again)."""
    try:
        return _File(path).checksums is not None
    except (InputError, OSError):
        return False


def header_meta(path: Path) -> dict[str, Any]:
    """The metadata (label, branch, commit, date) in the header of the version-2 snapshot at `path`, read
    without checking its arrays; `InputError` when it is no such file."""
    try:
        meta = _File(path).header.get("meta")
    except InputError:
        raise
    except (OSError, ValueError) as e:
        raise _damaged(str(path), str(e)) from None
    return meta if isinstance(meta, dict) else {}


def read(path: Path) -> DerivationGraph:
    """Open a version-2 snapshot: map it, check its header and arrays, and view the graph in place."""
    try:
        return _read(path)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, OverflowError) as e:
        raise _damaged(str(path), str(e)) from None


def _read(path: Path) -> DerivationGraph:
    f = _File(path)
    h = f.header
    damaged = f.damaged
    n, edges, outputs, jobs = h["derivations"], h["edges"], h["outputs"], h["jobs"]
    names = f.text("names", n)
    f.array("drv_hashes", count=n * _HASH)  # checked for its length and place; read through the map
    drv_exceptions = _Sparse(f, "drv_exception_rows", "drv_exceptions", n)
    mm = f.map
    hash_start = f.start + h["arrays"]["drv_hashes"][0]

    def drv_path(i: int) -> str:
        found = drv_exceptions.get(i)
        if found is not None:
            return found
        at = hash_start + i * _HASH
        return f"{_PREFIX}{mm[at : at + _HASH].decode('ascii', 'replace')}-{names.item(i)}.drv"

    system_ids = f.array("system_ids", count=n)
    _check_range(damaged, "system_ids", system_ids, len(h["systems"]))
    output_sets = [tuple(s) for s in h["output_sets"]]
    set_ids = f.array("output_set_ids", count=n)
    _check_range(damaged, "output_set_ids", set_ids, max(len(output_sets), 1) if n else 1)
    output_indptr = f.array("output_indptr", count=n + 1)
    f.array("out_hashes", count=outputs * _HASH)
    out_exceptions = _Sparse(f, "out_exception_ids", "out_exceptions", outputs)
    out_start = f.start + h["arrays"]["out_hashes"][0]

    def output_names(i: int) -> tuple[str, ...]:
        return output_sets[set_ids[i]]

    def output_paths(i: int) -> tuple[str, ...]:
        outs = output_sets[set_ids[i]]
        first = int(output_indptr[i])
        if int(output_indptr[i + 1]) - first != len(outs) or not 0 <= first <= outputs - len(outs):
            raise damaged(f"outputs of derivation {i} out of range")
        name = names.item(i)
        paths = []
        for q, o in enumerate(outs):
            k = first + q
            found = out_exceptions.get(k)
            if found is None:
                h32 = mm[out_start + k * _HASH : out_start + (k + 1) * _HASH].decode("ascii", "replace")
                found = f"{_PREFIX}{h32}-{name}{_output_suffix(o)}"
            paths.append(found)
        return tuple(paths)

    input_indptr = f.array("input_indptr", count=n + 1)
    input_indices = f.array("input_indices", count=edges)
    _check_csr(damaged, "inputs", input_indptr, input_indices, n)
    edge_sets = [tuple(s) for s in h["edge_output_sets"]]
    input_output_set = f.array("input_output_set", count=edges)
    _check_range(damaged, "input_output_set", input_output_set, len(edge_sets))
    sources = f.text("sources", h["sources"])
    source_indptr = f.array("source_indptr", count=n + 1)
    source_indices = f.array("source_indices")
    _check_csr(damaged, "sources", source_indptr, source_indices, h["sources"])

    def source_path(s: str) -> str:
        return s if s.startswith(("/", "fixed:")) else _PREFIX + s

    job_attrs = f.text("job_attrs", jobs)
    jobset_ids = f.array("job_jobset_ids", count=jobs)
    _check_range(damaged, "job_jobset_ids", jobset_ids, len(h["jobsets"]))
    job_system_ids = f.array("job_system_ids", count=jobs)
    _check_range(damaged, "job_system_ids", job_system_ids, len(h["job_systems"]))
    job_drv = f.array("job_drv", count=jobs)
    _check_range(damaged, "job_drv", job_drv, n)
    job_outputs_differ = _Sparse(f, "job_output_rows", "job_outputs", jobs)

    def job_outputs(k: int) -> dict[str, str]:
        text = job_outputs_differ.get(k)
        if text is None:
            d = int(job_drv[k])
            return dict(zip(output_names(d), output_paths(d)))
        value = json.loads(text)
        if not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            raise damaged(f"outputs of job {k}")
        return value

    features = {}
    for key, value in h["features"].items():
        if not key.isdigit() or int(key) >= n:
            raise damaged("features name a derivation out of range")
        features[int(key)] = tuple(value)
    graph = DerivationGraph(
        drv_paths=LazyColumn(n, drv_path),  # type: ignore[arg-type]
        names=names.column(),  # type: ignore[arg-type]
        systems=list(h["systems"]),
        system_ids=system_ids,
        fixed_output=f.array("fixed_output", count=n),
        prefer_local_build=f.array("prefer_local_build", count=n),
        output_names=LazyColumn(n, output_names),  # type: ignore[arg-type]
        output_paths=LazyColumn(n, output_paths),  # type: ignore[arg-type]
        features=features,
        input_indptr=input_indptr,
        input_indices=input_indices,
        input_output_set=input_output_set,
        output_sets=edge_sets,
        source_paths=sources.column(source_path),  # type: ignore[arg-type]
        source_indptr=source_indptr,
        source_indices=source_indices,
        job_attrs=job_attrs.column(),  # type: ignore[arg-type]
        job_jobsets=CodedColumn(h["jobsets"], jobset_ids),  # type: ignore[arg-type]
        job_systems=CodedColumn(h["job_systems"], job_system_ids),  # type: ignore[arg-type]
        job_drv=job_drv,
        job_names=f.text("job_names", jobs).column(),  # type: ignore[arg-type]
        job_outputs=LazyColumn(jobs, job_outputs),  # type: ignore[arg-type]
        job_positions=f.text("job_positions", jobs).column(lambda p: p or None),  # type: ignore[arg-type]
        job_maintainers=f.text("job_maintainers", jobs).column(lambda m: tuple(m.split("\x1f")) if m else ()),  # type: ignore[arg-type]
        eval_errors=[EvalError(*e) for e in h["eval_errors"]],
        origin=str(path),
        meta=h["meta"],
    )
    _attach_tables(graph, f)
    return graph


def _attach_tables(graph: DerivationGraph, f: _File) -> None:
    """Put the stored lookups and tables on `graph`: the drv-hash index is checked now, the sorted lookups on
    first use, and each table is range-checked on first use."""
    n, jobs, damaged = len(graph), graph.job_count, f.damaged
    sorted_hashes = f.array("drv_hash_sorted", count=n * _HASH).view(f"S{_HASH}")
    hash_order = f.array("drv_hash_order", count=n)
    _check_hash_index(graph, f, sorted_hashes, hash_order)
    graph.tables["index"] = _HashIndex(graph, sorted_hashes, hash_order)
    attrs, systems = graph.job_attrs, graph.job_systems

    def package_of(k: int) -> str:
        return job_package(attrs[k], systems[k])

    attr_lookup = _SortedLookup(
        f.array("job_attr_order", count=jobs), attrs.__getitem__, jobs, damaged, lambda: list(attrs), "job_attr_order"
    )
    graph.tables["jobs_by_attr"] = attr_lookup
    graph.tables["jobs_by_package"] = _SortedLookup(
        f.array("job_package_order", count=jobs),
        package_of,
        jobs,
        damaged,
        lambda: graph.job_packages,
        "job_package_order",
    )
    codes = graph.job_jobsets.codes  # type: ignore[attr-defined]
    stored = f.header["tables"]
    if "job_order" in stored:
        order = f.array("table.job_order.0", TABLES["job_order"][0], count=jobs)
        _check_range(damaged, "job_order", order, jobs)
        by_jobset = _SortedLookup(
            order,
            lambda k: (int(codes[k]), attrs[k]),
            jobs,
            damaged,
            lambda: list(zip(codes.tolist(), attrs)),
            "table job_order",
            unique=True,  # one job per (jobset, attribute)
        )

        def checked_order() -> np.ndarray:
            by_jobset.check()
            return order

        graph.tables["job_order"] = Stored(checked_order)
        graph.tables["job_index"] = _JobIndex(graph, codes, f.header["jobsets"], by_jobset)
    for key, dtypes in TABLES.items():
        if key == "job_order" or key not in stored:
            continue
        if stored[key] != len(dtypes):
            raise damaged(f"table {key}")
        graph.tables[key] = Stored(_checker(graph, key, f))


def _check_hash_index(graph: DerivationGraph, f: _File, sorted_hashes: np.ndarray, order: np.ndarray) -> None:
    """The drv-hash index must be every row's hash, sorted, with `order` naming each row once, and no drv path
    twice: else a lookup by path would miss a derivation that is there."""
    n = len(graph)
    if not _is_permutation(order, n):
        raise f.damaged("drv_hash_order: not an order of the rows")
    if n == 0:
        return
    hashes = f.array("drv_hashes", count=n * _HASH).view(f"S{_HASH}")
    if not (hashes[order] == sorted_hashes).all() or (sorted_hashes[1:] < sorted_hashes[:-1]).any():
        raise f.damaged("drv_hash_sorted: not the derivations' hashes in order")
    for at in np.flatnonzero(sorted_hashes[1:] == sorted_hashes[:-1]).tolist():
        a, b = int(order[at]), int(order[at + 1])
        if graph.drv_paths[a] == graph.drv_paths[b]:
            raise f.damaged(f"derivation {graph.drv_paths[a][:200]} is listed twice")
    # A path stored whole (of an unusual shape) must carry the hash it is filed under.
    for row in _ints(f.array("drv_exception_rows")):
        if 0 <= row < n and _hash_of(graph.drv_paths[row]) != hashes[row]:
            raise f.damaged(f"derivation {row}: its path does not match its hash")


def _checker(graph: DerivationGraph, key: str, f: _File) -> Callable[[], Any]:
    """The checks of stored table `key` (its arrays' checksums and ranges), run on its first use; returns the
    table's value."""
    n, edges, damaged = len(graph), graph.edge_count, f.damaged

    def check() -> Any:
        parts = tuple(f.array(f"table.{key}.{k}", dtype) for k, dtype in enumerate(TABLES[key]))
        if key == "consumers":
            indptr, consumers, edge_ids = parts
            if indptr.size != n + 1 or consumers.size != edges or edge_ids.size != edges:
                raise damaged("table consumers: wrong lengths")
            _check_csr(damaged, "table consumers", indptr, consumers, n)
            _check_range(damaged, "table consumers", edge_ids, edges)
            return parts
        if key == "propagation":
            indptr, consumers = parts
            if indptr.size != n + 1 or consumers.size > edges:
                raise damaged("table propagation: wrong lengths")
            _check_csr(damaged, "table propagation", indptr, consumers, n)
            return parts
        if key == "source_tree":
            _check_range(damaged, "table source_tree", parts[0], n)
            return parts[0]
        if key == "levels":
            level, inputs, consumers, run_starts = parts
            if level.size != n or inputs.size != consumers.size or inputs.size > edges:
                raise damaged("table levels: wrong lengths")
            _check_range(damaged, "table levels", inputs, n)
            _check_range(damaged, "table levels", consumers, n)
            runs = run_starts
            if runs.size == 0 or runs[0] != 0 or runs[-1] != inputs.size or (np.diff(runs) <= 0).any():
                raise damaged("table levels: runs out of order")
            return parts
        if key == "package_roots":
            first_job, indptr, rows = parts
            if indptr.size != first_job.size + 1:
                raise damaged("table package_roots: wrong lengths")
            _check_range(damaged, "table package_roots", first_job, graph.job_count)
            _check_csr(damaged, "table package_roots", indptr, rows, n)
            return parts
        key_rows, row_indptr, row_keys, indptr, consumers = parts
        count = key_rows.size + len(graph.source_paths)
        if row_indptr.size != n + 1 or indptr.size != count + 1:
            raise damaged("table source_keys: wrong lengths")
        _check_range(damaged, "table source_keys", key_rows, n)
        output_indptr = f.array("output_indptr", count=n + 1)
        if key_rows.size and (output_indptr[key_rows + 1] <= output_indptr[key_rows]).any():
            raise damaged("table source_keys: a key names a derivation without outputs")
        _check_csr(damaged, "table source_keys", row_indptr, row_keys, count)
        _check_csr(damaged, "table source_keys", indptr, consumers, n)
        return parts

    return check
