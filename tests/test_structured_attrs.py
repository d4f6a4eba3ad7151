"""Structured attributes (`__structuredAttrs = true`): the loaders read a derivation's attributes from `__json`.

The fixture (fixtures/structured_attrs/) is what Nix 2.8 made of default.nix: a multi-output derivation shaped
like nixpkgs' closure-info and a fixed-output source, both with structured attributes. `nix-2.8.json` is
`nix show-derivation -r` of it, the two .drv files are the store derivations themselves. Real evaluations of
nixpkgs since 2018 hold such derivations (378 in master of 2019-03-19), whose `env` has nothing but `__json`.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from impact.errors import InputError
from impact.loaders import aterm
from impact.loaders.show_derivation import load_derivations, parse_derivations
from impact.model import Derivation
from impact.nix import isolated_nix
from tests.conftest import DATA, require_nix, require_shared

FIXTURE = Path(__file__).parent / "fixtures" / "structured_attrs"
INFO = "/nix/store/mi4dbjms69p9k0nzszk6kx8ww1h9n0mi-closure-info.drv"
SRC = "/nix/store/p4hpvv16by7xn8a90synh3xwgfw0yfd6-src.tar.gz.drv"


def _by_path(drvs: list[Derivation]) -> dict[str, Derivation]:
    return {d.path: d for d in drvs}


def _check(drvs: dict[str, Derivation]) -> None:
    info, src = drvs[INFO], drvs[SRC]
    assert info.name == "closure-info" and src.name == "src.tar.gz"
    assert sorted(info.outputs) == ["bin", "out"] and not info.fixed_output
    assert info.required_system_features == ("kvm", "nixos-test")
    assert info.prefer_local_build and src.prefer_local_build
    assert src.fixed_output
    assert dict(info.inputs) == {SRC: ("out",)}


def test_show_derivation_reads_json_attributes() -> None:
    _check(_by_path(load_derivations(FIXTURE / "nix-2.8.json")))


def test_aterm_reads_json_attributes() -> None:
    _check(_by_path(aterm.read_closure([FIXTURE / Path(INFO).name])))


def test_both_loaders_agree() -> None:
    assert _by_path(load_derivations(FIXTURE / "nix-2.8.json")) == _by_path(
        aterm.read_closure([FIXTURE / Path(INFO).name])
    )


def _document() -> dict[str, dict[str, object]]:
    return json.loads((FIXTURE / "nix-2.8.json").read_text())


def test_fixed_output_declared_only_in_json_attributes() -> None:
    # A trimmed or hand-written document may leave the output's hash out; `outputHash` alone makes it fixed.
    document = _document()
    out = document[SRC]["outputs"]["out"]  # type: ignore[index]
    del out["hash"], out["hashAlgo"]
    assert _by_path(parse_derivations(document))[SRC].fixed_output


def test_newest_nix_structured_attrs_object() -> None:
    # Newest `nix derivation show` prints the structured attributes as an object beside `env`.
    document = _document()
    for value in document.values():
        value["structuredAttrs"] = json.loads(value["env"].pop("__json"))  # type: ignore[union-attr,attr-defined]
    _check(_by_path(parse_derivations(document)))


@pytest.mark.parametrize(
    ("json_text", "message"),
    [
        ('{"name": ', "its __json attribute is not valid JSON"),
        ('["closure-info"]', "its structured attributes are not a JSON object"),
    ],
)
def test_bad_json_attributes_are_one_input_error(json_text: str, message: str) -> None:
    document = _document()
    document[INFO]["env"] = {"__json": json_text}
    with pytest.raises(InputError, match=message):
        parse_derivations(document, "x.json")
    drv = (FIXTURE / Path(INFO).name).read_text()
    start = drv.index('("__json",')
    end = drv.index('("bin",', start)
    bad = drv[:start] + '("__json",' + json.dumps(json_text) + ")," + drv[end:]
    with pytest.raises(InputError, match=message):
        aterm.parse_drv(bad, INFO)


@pytest.mark.nix
def test_fixture_is_what_nix_makes(tmp_path: Path) -> None:
    """Nix 2.8 instantiates default.nix to the very .drv files and show-derivation JSON of the fixture."""
    require_nix()
    nix = isolated_nix(tmp_path / "store")
    [drv] = nix.instantiate(FIXTURE / "default.nix")
    assert drv == INFO
    assert nix.show_derivation([drv]) == _document()
    for path in (INFO, SRC):
        assert (tmp_path / "store" / path.lstrip("/")).read_text() == (FIXTURE / Path(path).name).read_text()


@pytest.mark.shared
def test_2019_master_structured_attr_derivations() -> None:
    """Every derivation of the 2019 evaluation loads, and those with only `__json` get its name and flags."""
    path = require_shared(DATA / "nixpkgs-master-2019-03-19" / "derivations.json.gz")
    document = json.loads(gzip.decompress(path.read_bytes()))
    structured = {p: json.loads(v["env"]["__json"]) for p, v in document.items() if "__json" in v["env"]}
    assert structured, "the 2019 evaluation has derivations with structured attributes"
    drvs = _by_path(parse_derivations(document, str(path)))
    assert len(drvs) == len(document)
    for p, attrs in structured.items():
        assert drvs[p].name == attrs["name"]
        assert drvs[p].prefer_local_build == (attrs.get("preferLocalBuild") is True)
        assert sorted(drvs[p].outputs) == sorted(attrs.get("outputs", ["out"]))
