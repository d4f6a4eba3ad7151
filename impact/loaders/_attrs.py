"""A derivation's attributes, whether Nix passes them as environment variables or as structured attributes.

With `__structuredAttrs = true` Nix puts every attribute in one JSON object: in a .drv (and in Nix 2.8's
`show-derivation`) it is the environment variable `__json`, a JSON string; newest `nix derivation show` prints it
as a `structuredAttrs` object. Values are then JSON (`preferLocalBuild: true`, `requiredSystemFeatures: ["kvm"]`)
where plain attributes are strings (`"1"`, `"kvm nixos-test"`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from impact.errors import InputError


def derivation_attrs(env: Mapping[str, Any], structured: Any, where: str) -> Mapping[str, Any]:
    """`env` with the structured attributes (from `structured` or the `__json` variable) laid over it."""
    if structured is None and "__json" in env:
        text = env["__json"]
        if not isinstance(text, str):
            raise InputError(f"{where}: its __json attribute is not a string")
        try:
            structured = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}: its __json attribute is not valid JSON ({e.msg})") from None
        except RecursionError:
            raise InputError(f"{where}: its __json attribute is nested too deeply") from None
        except ValueError as e:  # an integer past Python's digit limit
            raise InputError(f"{where}: its __json attribute is not usable JSON ({str(e).split(';')[0]})") from None
    if structured is None:
        return env
    if not isinstance(structured, Mapping):
        raise InputError(f"{where}: its structured attributes are not a JSON object")
    return {**env, **structured}


def system_features(attrs: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """`requiredSystemFeatures`: a space-separated string, or a list of strings under structured attributes;
    anything else (a number, an object, a list of numbers) is refused naming `where`."""
    declared = attrs.get("requiredSystemFeatures")
    if declared is None:
        return ()
    if isinstance(declared, str):
        return tuple(declared.split())
    if isinstance(declared, list) and all(isinstance(f, str) for f in declared):
        return tuple(declared)
    kind = "a list holding a non-string" if isinstance(declared, list) else f"a {type(declared).__name__}"
    raise InputError(
        f"{where}: field `requiredSystemFeatures` is {kind}, expected a string or a list of strings",
        tip="give the derivations as Nix printed them",
    )


def prefers_local_build(attrs: Mapping[str, Any]) -> bool:
    """`preferLocalBuild`: `"1"` as an environment variable, `true` under structured attributes."""
    return attrs.get("preferLocalBuild") in ("1", True)


def declares_fixed_output(attrs: Mapping[str, Any]) -> bool:
    """True when the attributes set `outputHash`, which is what makes Nix treat a derivation as fixed-output."""
    value = attrs.get("outputHash")
    return isinstance(value, str) and bool(value)
