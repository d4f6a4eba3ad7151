"""Nix's store-path arithmetic for fixed outputs: newer `nix derivation show` leaves the path of a
fixed-output derivation out (it follows from the hash), so the loader computes it exactly as Nix does
(`makeFixedOutputPath` in libstore), and the graph is the same whichever Nix printed it.

Hand-written because it is a few lines over `hashlib`; no maintained Python package exposes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

from impact.model import STORE_DIR

#: Nix's base-32 alphabet (no e, o, t, u).
NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"
_SIZES = {"md5": 16, "sha1": 20, "sha256": 32, "sha512": 64}


def nix32_encode(data: bytes) -> str:
    """Nix's base-32 text of `data` (least significant 5-bit group first, printed last-first)."""
    n = (len(data) * 8 - 1) // 5 + 1
    out = []
    for k in range(n - 1, -1, -1):
        b = k * 5
        i, j = divmod(b, 8)
        c = (data[i] >> j) | ((data[i + 1] << (8 - j)) if i + 1 < len(data) else 0)
        out.append(NIX32[c & 0x1F])
    return "".join(out)


def nix32_decode(text: str, size: int) -> bytes:
    """The `size` bytes written as Nix base-32 `text`; raises ValueError on a bad character."""
    if len(text) != (size * 8 - 1) // 5 + 1:
        raise ValueError(f"a base-32 hash of {size} bytes has {(size * 8 - 1) // 5 + 1} characters, not {len(text)}")
    out = bytearray(size)
    for n, ch in enumerate(reversed(text)):
        digit = NIX32.index(ch)
        b = n * 5
        i, j = divmod(b, 8)
        out[i] |= (digit << j) & 0xFF
        if i + 1 < size:
            out[i + 1] |= digit >> (8 - j)
        elif digit >> (8 - j):
            raise ValueError("hash too long")
    return bytes(out)


def _compress(digest: bytes, size: int = 20) -> bytes:
    out = bytearray(size)
    for i, b in enumerate(digest):
        out[i % size] ^= b
    return bytes(out)


def make_store_path(kind: str, inner_hex: str, name: str, store_dir: str = STORE_DIR) -> str:
    """`makeStorePath`: `<store>/<hash>-<name>` for the fingerprint `<kind>:sha256:<inner>:<store>:<name>`."""
    fingerprint = f"{kind}:sha256:{inner_hex}:{store_dir}:{name}"
    digest = _compress(hashlib.sha256(fingerprint.encode()).digest())
    return f"{store_dir}/{nix32_encode(digest)}-{name}"


def parse_hash(value: Any, algo: str | None = None) -> tuple[str, bytes]:
    """(algorithm, digest) of a hash as Nix's JSON writes it: base-16, Nix base-32, base-64, SRI
    (`sha256-…`), `sha256:…`, or `{"algorithm", "format", "hash"}`; raises ValueError when unreadable."""
    algo, digest = _parse_hash(value, algo)
    if algo not in _SIZES:
        raise ValueError(f"unknown hash algorithm {algo!r}")
    if len(digest) != _SIZES[algo]:
        raise ValueError(f"a {algo} hash has {_SIZES[algo]} bytes, this one {len(digest)}")
    return algo, digest


def _parse_hash(value: Any, algo: str | None) -> tuple[str, bytes]:
    if isinstance(value, Mapping):
        algo = str(value.get("algorithm") or algo or "")
        fmt, text = value.get("format"), value.get("hash", "")
        if not isinstance(text, str):
            raise ValueError("the hash is not a string")
        if fmt == "base64":
            return algo, base64.b64decode(text, validate=True)
        if fmt == "base16":
            return algo, binascii.unhexlify(text)
        if fmt in ("base32", "nix32"):
            if algo not in _SIZES:
                raise ValueError(f"unknown hash algorithm {algo!r}")
            return algo, nix32_decode(text, _SIZES[algo])
        value = text
    if not isinstance(value, str):
        raise ValueError("the hash is not a string")
    text = value
    if "-" in text and text.split("-", 1)[0] in _SIZES:
        algo, b64 = text.split("-", 1)
        return algo, base64.b64decode(b64, validate=True)
    if ":" in text and text.split(":", 1)[0] in _SIZES:
        algo, text = text.split(":", 1)
    if not algo or algo not in _SIZES:
        raise ValueError(f"unknown hash algorithm {algo!r}")
    size = _SIZES[algo]
    if len(text) == size * 2:
        return algo, binascii.unhexlify(text)
    if len(text) == (size * 8 - 1) // 5 + 1:
        return algo, nix32_decode(text, size)
    return algo, base64.b64decode(text, validate=True)


def fixed_output_path(name: str, method: str, algo: str, digest: bytes, store_dir: str = STORE_DIR) -> str:
    """`makeFixedOutputPath`: the output path of a fixed-output derivation named `name`.

    `method` is `flat`, `nar` (alias `recursive`) or `text`; a NAR hash with sha256 is a `source` path, the
    rest an `output:out` path over `fixed:out:[r:]<algo>:<hex>:`.
    """
    hex_digest = digest.hex()
    if method == "text":
        return make_store_path("text", hex_digest, name, store_dir)
    recursive = method in ("nar", "recursive")
    if recursive and algo == "sha256":
        return make_store_path("source", hex_digest, name, store_dir)
    inner = hashlib.sha256(f"fixed:out:{'r:' if recursive else ''}{algo}:{hex_digest}:".encode()).hexdigest()
    return make_store_path("output:out", inner, name, store_dir)
