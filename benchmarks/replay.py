"""The replay benchmark: real nixpkgs commits of spring 2019, `impact estimate --git` beside Nix's own answer.

    python benchmarks/replay.py prepare --git-dir G --work W     # W/nixpkgs: the base commit and a branch a commit
    python benchmarks/replay.py truth --work W                    # Nix's own answers → benchmarks/replay/truth/
    python benchmarks/replay.py run --work W                      # impact's answers, measured; the table
    python benchmarks/replay.py table --work W                    # the table again (after more truth is made)

G is the git directory `fetch github:datakurre/nixpkgs-channels` gives; W a scratch folder (a few GB). The
commits are ../shared/replay/commits.tsv (see its README): each applies as a diff onto 8fce8a93, the tree that
the shipped snapshot master-2019-03-19 evaluates, with the two generated files the mirror lacks stubbed as
../shared/data/README.md says. `prepare` commits those stubs as the branch `base` and each commit C as the
branch `r/<first 8 of C>` over it.

`truth` is Nix's answer, made without impact's code: benchmarks/replay/truth.nix walks a jobset as
hydra-eval-jobs does, one `nix-instantiate --eval --strict --json` a jobset and system, for the base tree and for
each commit's tree, both exported with `git archive` into the same folder (the NixOS jobs that embed the
source tree name it). A job whose error tryEval cannot catch (a missing file, an abort) is set aside, as Hydra
records it, and the jobset evaluated again without it. The per-commit answer (changed, added, removed and
newly failing jobs per jobset and system) is written to benchmarks/replay/truth/<commit>.json; those small
files are kept in the repository, this command remakes them.

`run` answers each commit with `impact estimate --git base..r/<c> --snapshot master-2019-03-19 --json` (wall
time, and the peak resident memory of the largest process of its tree, from wait4), keeping each answer in
W/answers/ and the measures in W/results.json. `table` compares each answer, job for job, with the truth where
the truth covers the jobset and system, and prints one Markdown table with the summary against the targets
(docs/performance.md keeps it).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRUTH_NIX = HERE / "replay" / "truth.nix"
TRUTH_DIR = HERE / "replay" / "truth"
COMMITS = HERE.parent.parent / "shared" / "replay" / "commits.tsv"
BASE_COMMIT = "8fce8a930cdb6385ac1a7cb941d13cfc7dfd51d7"
SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin")
#: The stubs of ../shared/data/README.md for the two generated files the mirror lacks.
STUBS = {
    "pkgs/development/haskell-modules/hackage-packages.nix": "{ pkgs, stdenv, callPackage }: self: {}\n",
    "pkgs/applications/editors/emacs-modes/melpa-generated.nix": "{ callPackage }: {}\n",
}
HASKELL = (
    "  haskell = callPackage ./haskell-packages.nix { };",
    '  haskell = throw "haskell: hackage-packages.nix is not available (stubbed)";',
)
#: The kinds of the commits drawn at random (the others were picked from the parts most packages read).
RANDOM_KINDS = ("leaf", "toplevel", "nixos", "other")
#: How often one jobset is evaluated again past a job that stopped Nix.
MAX_SET_ASIDE = 5000


def commits(path: Path = COMMITS) -> list[dict[str, str]]:
    """The rows of commits.tsv: commit, kind, files, subject."""
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def branch(commit: str) -> str:
    """The replay branch of a commit."""
    return f"r/{commit[:8]}"


def git(repo: Path, *args: str, data: bytes | None = None) -> str:
    """Run git in `repo`; its stdout."""
    done = subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True, check=True)
    return done.stdout.decode()


def prepare(git_dir: Path, work: Path) -> None:
    """W/nixpkgs: `base` (8fce8a93 with the stubs committed) and `r/<c>` for every commit, its diff applied."""
    repo = work / "nixpkgs"
    if not repo.exists():
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(git_dir), str(repo)], check=True)
    ident = ["-c", "user.name=replay", "-c", "user.email=replay@example.invalid"]
    # The mirror lacks the two generated files, so a plain checkout fails on them: check out the rest.
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-B", "base", BASE_COMMIT], check=False)
    for path, text in STUBS.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    top = repo / "pkgs/top-level/all-packages.nix"
    top.write_text(top.read_text(encoding="utf-8").replace(*HASKELL), encoding="utf-8")
    git(repo, "add", "-A", "pkgs")
    if git(repo, "status", "--porcelain"):
        git(repo, *ident, "commit", "-q", "-m", "Stub the generated files the mirror lacks (../shared/data/README.md)")
    for row in commits():
        c = row["commit"]
        git(repo, "checkout", "-q", "-B", branch(c), "base")
        diff = subprocess.run(
            ["git", "--git-dir", str(git_dir), "diff", "--binary", f"{c}^", c], capture_output=True, check=True
        ).stdout
        git(repo, "apply", "--index", "-", data=diff)
        subject = git(Path("."), "--git-dir", str(git_dir), "log", "-1", "--format=%s", c).strip()
        git(repo, *ident, "commit", "-q", "-m", subject)
    git(repo, "checkout", "-q", "base")


def export(repo: Path, ref: str, dest: Path) -> None:
    """The tree of `ref`, without .git, in `dest` (emptied first)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(repo), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def evaluate(tree: Path, jobset: str, system: str, store: Path, log: Path, slices: int = 1) -> dict[str, object]:
    """Nix's outputs of every job of `jobset` for `system`: {attr: {output: path}}, errors as {attr: message};
    in `slices` Nix processes at once (truth.nix's slices), joined."""
    from concurrent.futures import ThreadPoolExecutor

    if slices > 1:
        subprocess.run(["nix", "store", "ping", "--store", f"local?root={store}"], capture_output=True, check=False)
    with ThreadPoolExecutor(max_workers=slices) as pool:
        parts = list(pool.map(lambda k: _evaluate_slice(tree, jobset, system, store, log, slices, k), range(slices)))
    return {
        "jobs": {k: v for p in parts for k, v in p["jobs"].items()},
        "errors": {k: v for p in parts for k, v in p["errors"].items()},
    }


def _evaluate_slice(
    tree: Path, jobset: str, system: str, store: Path, log: Path, slices: int, slice_: int
) -> dict[str, dict]:
    """One slice of `evaluate`.

    A job whose error tryEval cannot catch stops Nix: the jobs traced before it are kept, it is recorded with
    Nix's message, and the walk starts again just after it (truth.nix's `after`), as Hydra goes on past it."""
    jobs: dict[str, object] = {}
    errors: dict[str, str] = {}
    after: list[str] = []
    crashes = 0
    for _ in range(MAX_SET_ASIDE):
        started = time.monotonic()
        done = subprocess.run(
            [
                "nix-instantiate",
                "--store",
                f"local?root={store}",
                "--eval",
                "--strict",
                "--json",
                str(TRUTH_NIX),
                "--arg",
                "tree",
                str(tree),
                "--argstr",
                "jobset",
                jobset,
                "--arg",
                "systems",
                f'[ "{system}" ]',
                "--arg",
                "after",
                "[ " + " ".join(json.dumps(n) for n in after) + " ]",
                "--arg",
                "slices",
                str(slices),
                "--arg",
                "slice",
                str(slice_),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        with open(log, "a", encoding="utf-8") as f:
            f.write(
                f"{tree} {jobset} {system} slice {slice_}/{slices} rc={done.returncode}"
                f" {time.monotonic() - started:.0f}s after={after}\n"
            )
        for line in done.stderr.splitlines():
            if line.startswith("trace: truth-job "):
                record = json.loads(line.removeprefix("trace: truth-job "))
                jobs[record["name"]] = record["value"]
            elif line.startswith("trace: truth-error "):
                errors[".".join(json.loads(line.removeprefix("trace: truth-error ")))] = "evaluation error (tryEval)"
        if done.returncode == 0:
            jobs.update(json.loads(done.stdout))
            return {"jobs": jobs, "errors": errors}
        if done.returncode < 0 and crashes < 3:  # Nix 2.8's collector crashes now and then: evaluate again
            crashes += 1
            continue
        walked = re.findall(r"^trace: truth-walk (.*)$", done.stderr, re.MULTILINE)
        message = next((x for x in done.stderr.splitlines() if x.startswith("error:")), "error")
        stopped = json.loads(walked[-1]) if walked else None
        if not stopped or stopped == after:
            raise RuntimeError(f"{tree} {jobset} {system}: {message}")
        errors[".".join(stopped)] = message.removeprefix("error:").strip().replace(str(tree) + "/", "")
        after = stopped
    raise RuntimeError(f"{tree} {jobset} {system}: more than {MAX_SET_ASIDE} jobs set aside")


def outpath_diff(base: dict[str, object], head: dict[str, object]) -> dict[str, list[str]]:
    """Nix's out-path diff of two evaluations of one jobset and system."""
    b, h = base["jobs"], head["jobs"]
    assert isinstance(b, dict) and isinstance(h, dict)
    head_errors = head["errors"]
    assert isinstance(head_errors, dict)
    return {
        "changed": sorted(a for a in b.keys() & h.keys() if b[a] != h[a]),
        "added": sorted(h.keys() - b.keys() - head_errors.keys()),
        "removed": sorted(b.keys() - h.keys()),
        "newly_failing": sorted(a for a in head_errors if a in b),
    }


def truth(work: Path, jobsets: list[str], systems: list[str], only: list[str], slices: int = 1) -> None:
    """Evaluate base and each commit (`only`: some) and write benchmarks/replay/truth/<commit>.json."""
    repo, evals, store, log = work / "nixpkgs", work / "evals", work / "store", work / "truth.log"
    tree = work / "tree" / "base"  # one folder for every tree: the NixOS jobs that embed it name it
    evals.mkdir(parents=True, exist_ok=True)
    TRUTH_DIR.mkdir(parents=True, exist_ok=True)
    rows = [r for r in commits() if not only or any(r["commit"].startswith(o) for o in only)]
    for jobset in jobsets:
        for system in systems if jobset == "nixpkgs" else ["x86_64-linux"]:
            for ref in ["base", *(branch(r["commit"]) for r in rows)]:
                out = evals / f"{ref.replace('/', '-')}.{jobset}.{system}.json.gz"
                if out.exists():
                    continue
                export(repo, ref, tree)
                result = evaluate(tree, jobset, system, store, log, slices)
                with gzip.open(out, "wt", encoding="utf-8") as f:
                    json.dump(result, f)
    for r in rows:
        c = r["commit"]
        answer: dict[str, object] = {"commit": c, "kind": r["kind"], "subject": r["subject"], "jobsets": {}}
        for jobset in ("nixpkgs", "nixos"):
            for system in SYSTEMS if jobset == "nixpkgs" else ("x86_64-linux",):
                b = evals / f"base.{jobset}.{system}.json.gz"
                h = evals / f"{branch(c).replace('/', '-')}.{jobset}.{system}.json.gz"
                if b.exists() and h.exists():
                    with gzip.open(b, "rt") as fb, gzip.open(h, "rt") as fh:
                        answer["jobsets"][f"{jobset}/{system}"] = outpath_diff(json.load(fb), json.load(fh))  # type: ignore[index]
        (TRUTH_DIR / f"{c[:12]}.json").write_text(json.dumps(answer, indent=1, sort_keys=True) + "\n")


def system_of(attr: str) -> str:
    """The system a job attribute ends in."""
    return attr.rsplit(".", 1)[-1]


def compare_answer(answer: dict, truth_answer: dict) -> dict[str, dict[str, list[str]]]:
    """impact's answer against Nix's, per `jobset/system` the truth covers: jobs impact missed and jobs it
    added that Nix does not change (changed, added, removed and newly failing each). A job that fails in HEAD
    is in Nix's diff twice (gone from HEAD's jobs, and failing): it counts as a break only, as impact reports it."""
    out: dict[str, dict[str, list[str]]] = {}
    for key, t in truth_answer["jobsets"].items():
        jobset, system = key.split("/")
        mine = {
            "changed": {a for a in answer.get("changed_jobs", {}).get(jobset, []) if system_of(a) == system},
            "added": {a for a in answer.get("added_jobs", {}).get(jobset, []) if system_of(a) == system},
            "removed": {a for a in answer.get("removed_jobs", {}).get(jobset, []) if system_of(a) == system},
            "newly_failing": {a for a in answer.get("broken_jobs", {}).get(jobset, {}) if system_of(a) == system},
        }
        theirs = {k: set(t[k]) for k in ("changed", "added", "removed", "newly_failing")}
        theirs["removed"] -= theirs["newly_failing"]
        diffs = {}
        for k in mine:
            missed, extra = sorted(theirs[k] - mine[k]), sorted(mine[k] - theirs[k])
            if missed:
                diffs[f"{k} missed"] = missed
            if extra:
                diffs[f"{k} extra"] = extra
        out[key] = diffs
    return out


def measure(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run `command` under GNU time: its result, wall seconds, and the peak resident memory (KiB) of the largest
    process of its tree (impact or one of its Nix processes: wait4 carries the children's peak up)."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".time") as report:
        started = time.monotonic()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", report.name, *command], capture_output=True, text=True, check=False
        )
        seconds = time.monotonic() - started
        text = report.read().strip().splitlines()
    peak = int(text[-1]) if text and text[-1].isdigit() else 0
    return done, seconds, peak


def truth_of(commit: str) -> dict | None:
    """The committed truth of a commit (benchmarks/replay/truth/<commit>.json), or None."""
    path = TRUTH_DIR / f"{commit[:12]}.json"
    return json.loads(path.read_text()) if path.exists() else None


def run(work: Path, snapshot: str, only: list[str], impact: str) -> None:
    """impact's answer for each commit, measured: W/answers/<commit>.json (the answer) and W/results.json (wall
    time, peak memory, exit code); then the table (`table`)."""
    repo = work / "nixpkgs"
    answers = work / "answers"
    answers.mkdir(parents=True, exist_ok=True)
    results_file = work / "results.json"
    results = {x["commit"]: x for x in json.loads(results_file.read_text())} if results_file.exists() else {}
    for r in commits():
        c = r["commit"]
        if only and not any(c.startswith(o) for o in only):
            continue
        command = [impact, "estimate", "--git", f"base..{branch(c)}", "--repo", str(repo), "--snapshot", snapshot]
        done, seconds, peak = measure([*command, "--json"])
        answered = done.returncode in (0, 3) and done.stdout.strip()
        (answers / f"{c[:12]}.json").write_text(done.stdout if answered else "")
        results[c] = {
            "commit": c,
            "seconds": round(seconds, 1),
            "peak_kib": peak,
            "exit": done.returncode,
            "stderr": done.stderr[-2000:],
        }
        results_file.write_text(json.dumps(list(results.values()), indent=1))
        print(f"{c[:8]} {r['kind']:<13} exit={done.returncode} {seconds:.1f}s {peak / 2**20:.2f} GiB", file=sys.stderr)
    print(table(work))


def compared(work: Path) -> list[dict]:
    """Each measured commit's answer beside the committed truth, in commits.tsv's order."""
    if not (work / "results.json").exists():
        raise SystemExit(f"replay: no {work / 'results.json'}: run `replay.py run --work {work}` first")
    measured = {x["commit"]: x for x in json.loads((work / "results.json").read_text())}
    rows = []
    for r in commits():
        c = r["commit"]
        if c not in measured:
            continue
        text = (work / "answers" / f"{c[:12]}.json").read_text()
        answer = json.loads(text) if text.strip() else None
        truth_answer = truth_of(c)
        diffs = compare_answer(answer, truth_answer) if answer is not None and truth_answer else None
        rows.append(
            {
                **measured[c],
                "kind": r["kind"],
                "files": r["files"],
                "verdict": answer.get("verdict") if answer else None,
                "whole_nixos": bool(answer and answer.get("git", {}).get("base_from_snapshot", {}).get("nixos")),
                "counts": _counts(answer) if answer else None,
                "truth_counts": _truth_counts(truth_answer) if truth_answer else None,
                "compared": sorted(diffs) if diffs is not None else [],
                "differences": {k: v for k, v in (diffs or {}).items() if v},
            }
        )
    return rows


def _counts(answer: dict) -> dict[str, int]:
    """Changed, added, removed and broken jobs of an answer, all jobsets and systems."""
    return {
        "changed": sum(len(v) for v in answer.get("changed_jobs", {}).values()),
        "added": sum(len(v) for v in answer.get("added_jobs", {}).values()),
        "removed": sum(len(v) for v in answer.get("removed_jobs", {}).values()),
        "broken": sum(len(v) for v in answer.get("broken_jobs", {}).values()),
    }


def _truth_counts(truth_answer: dict) -> dict[str, int]:
    """The same counts for Nix's answer, over the jobsets and systems it covers."""
    sets = truth_answer["jobsets"].values()
    return {
        "changed": sum(len(d["changed"]) for d in sets),
        "added": sum(len(d["added"]) for d in sets),
        "removed": sum(len(set(d["removed"]) - set(d["newly_failing"])) for d in sets),
        "broken": sum(len(d["newly_failing"]) for d in sets),
    }


def table(work: Path) -> str:
    """The Markdown table of docs/performance.md: one row a commit, then the summary against the targets."""
    import statistics

    results = compared(work)
    lines = [
        "| commit | kind | verdict | changed / added / removed / broken (all systems) | Nix agrees on | wall | peak |",
        "| --- | --- | --- | --- | --- | ---: | ---: |",
    ]
    for x in results:
        verdict = "error" if x["verdict"] is None else "exact" if x["verdict"]["exact"] else "not exact"
        counts = x["counts"]
        told = " / ".join(f"{counts[k]:,}" for k in ("changed", "added", "removed", "broken")) if counts else "–"
        if not x["compared"]:
            agrees = "–"
        elif x["differences"]:
            agrees = "**differs**: " + ", ".join(sorted(x["differences"]))
        else:
            agrees = "every job (" + ", ".join(x["compared"]) + ")"
        lines.append(
            f"| {x['commit'][:8]} | {x['kind']} | {verdict} | {told} | {agrees} | {x['seconds']:.0f} s"
            f" | {x['peak_kib'] / 2**20:.2f} GiB |"
        )
    random = [x for x in results if x["kind"] in RANDOM_KINDS]
    exact = [x for x in results if x["verdict"] and x["verdict"]["exact"]]
    wrong = [x for x in exact if x["differences"]]
    no_module = [x for x in results if not any(f.startswith("nixos/") for f in x["files"].split())]
    lines += [
        "",
        f"- Commits answered: {len(results)}; with an error: {sum(1 for x in results if x['verdict'] is None)}.",
        f"- Declared exact: {len(exact)}; of them differing from Nix where the truth covers them: {len(wrong)}"
        + (f" ({', '.join(x['commit'][:8] for x in wrong)})" if wrong else "")
        + ".",
        f"- Randomly drawn commits declared exact: {sum(1 for x in random if x in exact)} of {len(random)}"
        f" ({100 * sum(1 for x in random if x in exact) / max(1, len(random)):.0f} %).",
    ]
    if no_module:
        lines.append(
            f"- Commits touching nothing under nixos/ ({len(no_module)}): median wall time"
            f" {statistics.median(x['seconds'] for x in no_module):.0f} s, median peak memory"
            f" {statistics.median(x['peak_kib'] for x in no_module) / 2**20:.2f} GiB, largest peak"
            f" {max(x['peak_kib'] for x in no_module) / 2**20:.2f} GiB."
        )
    whole_nixos = [x for x in results if x.get("whole_nixos")]
    if whole_nixos:
        lines.append(
            f"- Commits whose answer evaluated the whole NixOS jobset ({len(whole_nixos)}): wall time"
            f" {min(x['seconds'] for x in whole_nixos):.0f}–{max(x['seconds'] for x in whole_nixos):.0f} s, median"
            f" {statistics.median(x['seconds'] for x in whole_nixos):.0f} s, largest peak"
            f" {max(x['peak_kib'] for x in whole_nixos) / 2**20:.2f} GiB."
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """The command line (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--git-dir", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    t = sub.add_parser("truth")
    t.add_argument("--work", type=Path, required=True)
    t.add_argument("--jobsets", default="nixpkgs,nixos")
    t.add_argument("--systems", default=",".join(SYSTEMS))
    t.add_argument("--only", nargs="*", default=[])
    t.add_argument("--slices", type=int, default=1, help="Nix processes a tree, at once (truth.nix's slices)")
    r = sub.add_parser("run")
    r.add_argument("--work", type=Path, required=True)
    r.add_argument("--snapshot", default="master-2019-03-19")
    r.add_argument("--only", nargs="*", default=[])
    r.add_argument("--impact", default=os.environ.get("IMPACT", "impact"))
    tb = sub.add_parser("table")
    tb.add_argument("--work", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.git_dir, args.work)
    elif args.command == "truth":
        truth(args.work, [j for j in args.jobsets.split(",") if j], args.systems.split(","), args.only, args.slices)
    elif args.command == "run":
        run(args.work, args.snapshot, args.only, args.impact)
    else:
        print(table(args.work))


if __name__ == "__main__":
    main()
