"""Loaders: every shape of `nix show-derivation` / `nix derivation show`, nix-eval-jobs lines, ATerm .drv files.

The show-derivation fixtures are one real closure from nixpkgs master 2016-06-24 (hello-2.10, its fixed-output
tarball, stdenv and bash, their own inputs cut off) as Nix 2.8 printed it, then rewritten by hand into each
newer shape Nix documents: Nix 2.18 input objects, JSON v3 (no store dir, `method` + `hashAlgo`), JSON v4
(`inputs`, fixed outputs as a method and a hash without a path, the `derivations` wrapper).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from impact.errors import InputError
from impact.loaders import aterm, load_snapshot
from impact.loaders.eval_jobs import parse_job_lines
from impact.loaders.show_derivation import load_derivations, load_graph, parse_derivations
from impact.model import DerivationGraph, EvalError

FIXTURES = Path(__file__).parent / "fixtures" / "show_derivation"
HELLO = "/nix/store/7ws8s98v20pgrmkz5c4s8a99lhy07qbd-hello-2.10.drv"
TARBALL = "/nix/store/lm3z6vy4sk2xgz392c16swf0372a829b-hello-2.10.tar.gz.drv"
BASH = "/nix/store/60jf06wpyl1rkr4kq9jfkriayrw8vk8c-bash-4.3-p42.drv"


@pytest.fixture(scope="module")
def nix28() -> DerivationGraph:
    return load_graph(FIXTURES / "nix-2.8.json")


def test_nix_2_8_shape(nix28: DerivationGraph) -> None:
    hello = nix28.derivation(HELLO)
    assert hello.name == "hello-2.10" and hello.system == "x86_64-linux" and not hello.fixed_output
    assert hello.outputs == {"out": "/nix/store/5vp9fm6xa6fany8qkikmy2jp5gpwi6zm-hello-2.10"}
    assert dict(hello.inputs)[BASH] == ("out",)
    assert hello.input_sources == ("/nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-default-builder.sh",)
    assert nix28.derivation(TARBALL).fixed_output
    assert sorted(nix28.derivation(BASH).outputs) == ["doc", "info", "out"]


@pytest.mark.parametrize("shape", ["nix-2.18.json", "nix-v3.json", "nix-v4.json"])
def test_newer_shapes_give_the_nix_2_8_graph(nix28: DerivationGraph, shape: str) -> None:
    graph = load_graph(FIXTURES / shape)
    assert graph.same_as(nix28)


def test_v4_fixed_output_path_is_computed_as_nix_does(nix28: DerivationGraph) -> None:
    # The v4 fixture gives the tarball's hash alone; Nix 2.8 printed its path.
    v4 = load_graph(FIXTURES / "nix-v4.json")
    assert v4.derivation(TARBALL).outputs["out"] == "/nix/store/3x7dwzq014bblazs7kq20p9hyzz0qh8g-hello-2.10.tar.gz"
    assert v4.derivation(TARBALL).fixed_output


def test_content_addressed_outputs() -> None:
    drvs = {d.name: d for d in load_derivations(FIXTURES / "content-addressed.json")}
    src, app = drvs["src-recursive-sha256"], drvs["ca-app"]
    assert src.fixed_output
    # Nix 2.8 gave this path for `outputHashMode = "recursive"` with this sha256 (nix-instantiate --eval).
    assert src.outputs["out"] == "/nix/store/xjdbnd4q81gf29i6azmbyb5kwjj7is82-src-recursive-sha256"
    assert not app.fixed_output, "a floating content-addressed output has no fixed hash"
    assert app.outputs == {"out": ""}
    assert app.required_system_features == ("ca-derivations",)
    assert dict(app.inputs) == {src.path: ("out",)}
    assert app.path == "/nix/store/2c8w7x4q1l4ivw8v1fsk8v6sz5gk5rdd-ca-app.drv"


def test_show_derivation_wrong_shapes_are_input_errors() -> None:
    with pytest.raises(InputError, match="expected a JSON object"):
        parse_derivations([1, 2], "x.json")
    with pytest.raises(InputError, match="has no `outputs`"):
        parse_derivations({"/nix/store/a-b.drv": {"env": {}}}, "x.json")
    with pytest.raises(InputError, match=r"derivation /nix/store/a-b\.drv: output out path is not a store path"):
        parse_derivations(
            {"/nix/store/a-b.drv": {"outputs": {"out": {"path": 3}}, "env": {"name": "b"}, "system": "s"}}, "x.json"
        )
    with pytest.raises(InputError, match="hash impact cannot read"):
        parse_derivations(
            {"a-b.drv": {"name": "b", "system": "s", "outputs": {"out": {"method": "flat", "hash": "md9-zz"}}}},
            "x.json",
        )


# -- nix-eval-jobs lines ----------------------------------------------------------------------------------


def test_eval_jobs_lines_with_errors_and_maintainer_objects() -> None:
    lines = [
        json.dumps(
            {
                "attr": "hello.x86_64-linux",
                "attrPath": ["hello", "x86_64-linux"],
                "name": "hello-2.10",
                "system": "x86_64-linux",
                "drvPath": HELLO.removeprefix("/nix/store/"),
                "outputs": {"out": "/nix/store/5vp9fm6xa6fany8qkikmy2jp5gpwi6zm-hello-2.10"},
                "meta": {
                    "position": "pkgs/applications/misc/hello/default.nix:4",
                    "maintainers": [
                        {"name": "Eelco Dolstra", "github": "edolstra", "email": "e@x"},
                        {"name": "No Github", "email": "n@x"},
                        "plain",
                    ],
                },
            }
        ),
        "",
        json.dumps({"attrPath": ["broken", "x86_64-linux"], "error": "error: assertion failed at x.nix:3"}),
        json.dumps({"attr": "tests.nat.x86_64-linux", "error": "throw", "jobset": "nixos"}),
    ]
    jobs, errors = parse_job_lines(lines, "jobs.jsonl")
    assert [j.attr for j in jobs] == ["hello.x86_64-linux"]
    job = jobs[0]
    assert job.drv_path == HELLO and job.jobset == "nixpkgs" and job.package == "hello"
    assert job.maintainers == ("edolstra", "No Github", "plain")
    assert job.position == "pkgs/applications/misc/hello/default.nix:4"
    assert errors == [
        EvalError("broken.x86_64-linux", "error: assertion failed at x.nix:3", "nixpkgs"),
        EvalError("tests.nat.x86_64-linux", "throw", "nixos"),
    ]
    graph = DerivationGraph.from_records(load_derivations(FIXTURES / "nix-2.8.json"), jobs, errors)
    assert graph.eval_errors == tuple(errors) and graph.job(0) == job


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"jobs.jsonl:1: not valid JSON at line 1 column 2"),
        ("[1]", r"jobs.jsonl:1: expected a JSON object"),
        ('{"name": "x"}', r"jobs.jsonl:1: a job needs `attr` \(a string\) or `attrPath`"),
        ('{"attr": "x"}', r"jobs.jsonl:1: job x: has no `drvPath`"),
        (
            '{"attr": "x", "drvPath": "/nix/store/a-x.drv", "system": 3}',
            r"jobs.jsonl:1: job x: field `system` is a number",
        ),
    ],
)
def test_eval_jobs_bad_lines(line: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_job_lines([line], "jobs.jsonl")


# -- ATerm .drv files -------------------------------------------------------------------------------------

OUT = "/nix/store/5vp9fm6xa6fany8qkikmy2jp5gpwi6zm-hello-2.10"


def _drv(outputs: str, inputs: str = "", env: str = '("name","hello-2.10")', head: str = "Derive(") -> str:
    return f'{head}[{outputs}],[{inputs}],["/nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-default-builder.sh"],"x86_64-linux","/bin/sh",["-e","b.sh"],[{env}])'


def test_aterm_fields_and_escapes() -> None:
    text = _drv(
        f'("out","{OUT}","","")',
        f'("{TARBALL}",["out"]),("{BASH}",["doc","out"])',
        r'("buildPhase","echo \"a\\b\"\n\tdone\r"),("name","hello-2.10"),("requiredSystemFeatures","big-parallel kvm")',
    )
    d = aterm.parse_drv(text, HELLO)
    assert d.path == HELLO and d.name == "hello-2.10" and d.system == "x86_64-linux"
    assert d.outputs == {"out": OUT} and not d.fixed_output
    assert dict(d.inputs) == {TARBALL: ("out",), BASH: ("doc", "out")}
    assert d.required_system_features == ("big-parallel", "kvm")
    env = dict(aterm.parse_term(text)[1][6])  # type: ignore[arg-type]
    assert env["buildPhase"] == 'echo "a\\b"\n\tdone\r'


def test_aterm_fixed_floating_and_structured_attrs() -> None:
    fixed = aterm.parse_drv(
        _drv('("out","/nix/store/3x7dwzq014bblazs7kq20p9hyzz0qh8g-hello-2.10.tar.gz","sha256","31e0")'), TARBALL
    )
    assert fixed.fixed_output
    floating = aterm.parse_drv(
        _drv('("out","","r:sha256","")'), "/nix/store/2c8w7x4q1l4ivw8v1fsk8v6sz5gk5rdd-ca-app.drv"
    )
    assert not floating.fixed_output and floating.outputs == {"out": ""}
    structured = aterm.parse_drv(
        _drv(
            f'("out","{OUT}","","")', env=r'("__json","{\"name\":\"hello-2.10\",\"requiredSystemFeatures\":[\"kvm\"]}")'
        ),
        HELLO,
    )
    assert structured.name == "hello-2.10" and structured.required_system_features == ("kvm",)


def test_aterm_dynamic_derivation_version() -> None:
    text = _drv(
        f'("out","{OUT}","","")', f'("{BASH}",(["out"],[("doc",(["x"],[]))]))', head='DrvWithVersion("xp-dyn-drv",'
    )
    assert dict(aterm.parse_drv(text, HELLO).inputs) == {BASH: ("out",)}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("hello", "expected 'Derive(' (is this a .drv file?) at line 1, column 1"),
        ('{"a": 1}', "at line 1, column 1"),
        ('Derive([],[],[],"x","b",[],[("name","v', "an unterminated string at line 1, column 37"),
        ('Derive([],[],[],"x","b",[])', "6 fields where a derivation has 7"),
        ('Derive([],[],[],"x","b",[],[]) junk', "text after the end of the derivation at line 1, column 32"),
        ('Derive([],[],[],"x","b",[],[("name")])', "the environment is not a list of 2-tuples"),
        ('DrvWithVersion("v9",[],[],[],"x","b",[],[])', "unknown derivation version 'v9'"),
        ('\n\nDerive([],[],[],"x","b",[],[]]', "expected ',' or ')' at line 3, column 30"),
        ('Derive([],[],[],"x","b",["a",],[])', "expected a string, list or tuple at line 1, column 30"),
        ('Derive([],[],[],"x","b",["a" "b"],[])', "expected ',' or ']' at line 1, column 30"),
        ('Derive([],[],[],"x","b",[a],[])', "unexpected 'a' at line 1, column 26"),
        ('Derive([],[],[],"x","b",[],[', "the text ends before the derivation does"),
    ],
)
def test_aterm_errors_name_file_and_position(text: str, where: str) -> None:
    with pytest.raises(InputError) as e:
        aterm.parse_drv(text, "/tmp/x/abc-bad.drv")
    assert str(e.value).startswith("/tmp/x/abc-bad.drv: not a Nix derivation (ATerm): ")
    assert where in str(e.value)


def _write_closure(folder: Path) -> None:
    """hello (out) ← tarball (fixed) and bash (doc, out), as .drv files named like a store."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / Path(HELLO).name).write_text(
        _drv(f'("out","{OUT}","","")', f'("{TARBALL}",["out"]),("{BASH}",["doc","out"])')
    )
    (folder / Path(TARBALL).name).write_text(
        _drv(
            '("out","/nix/store/3x7dwzq014bblazs7kq20p9hyzz0qh8g-hello-2.10.tar.gz","sha256","31e0")',
            env='("name","hello-2.10.tar.gz")',
        )
    )
    (folder / Path(BASH).name).write_text(
        _drv(
            '("doc","/nix/store/vh8n8g2a69zmb4rsgkg2svl0zjai8zfb-bash-4.3-p42-doc","",""),("out","/nix/store/hbgd7mbpylfz6zxj5bkdyi07yag77b8l-bash-4.3-p42","","")',
            env='("name","bash-4.3-p42")',
        )
    )


def test_drv_files_store_root_and_store_dir_agree(tmp_path: Path) -> None:
    _write_closure(tmp_path / "root" / "nix" / "store")
    _write_closure(tmp_path / "copy")
    by_root = aterm.load_drv_files([HELLO], store_root=tmp_path / "root")
    by_file = aterm.load_drv_files([tmp_path / "copy" / Path(HELLO).name])
    by_dir = aterm.load_store_dir(tmp_path / "copy")
    by_dispatch = load_snapshot(tmp_path / "copy")
    assert sorted(by_root.drv_paths) == sorted([HELLO, TARBALL, BASH])
    assert by_root.same_as(by_file) and by_root.same_as(by_dir) and by_root.same_as(by_dispatch)
    assert by_root.derivation(TARBALL).fixed_output and not by_root.derivation(HELLO).fixed_output


def test_missing_input_drv_names_both(tmp_path: Path) -> None:
    _write_closure(tmp_path)
    (tmp_path / Path(BASH).name).unlink()
    with pytest.raises(InputError) as e:
        aterm.load_drv_files([tmp_path / Path(HELLO).name])
    assert Path(HELLO).name in str(e.value) and Path(BASH).name in str(e.value) and "missing" in str(e.value)
    with pytest.raises(InputError) as e:
        aterm.load_store_dir(tmp_path)
    assert Path(HELLO).name in str(e.value) and Path(BASH).name in str(e.value) and "not in the folder" in str(e.value)
