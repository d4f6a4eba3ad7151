"""Text for `impact why`, `impact outputs`, the blast-radius section and the output what-ifs of `impact estimate`.

JSON for all of them is the results' `to_dict()` under a `snapshot` key (`why_json`, `outputs_json`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from impact.analysis.blast import LEAVES_LISTED, BlastRadius
from impact.analysis.outputs import OutputsReport
from impact.analysis.rebuild import RebuildEstimate
from impact.analysis.whatif import CUTOFF_ASSUMPTION, SPLIT_UNKNOWNS, EstimateSections, OnlyOutputWhatIf, SplitWhatIf
from impact.analysis.why import TargetAnswer, Verdict, WhyResult
from impact.model import DerivationGraph
from impact.render.json import dumps, snapshot_dict
from impact.render.text import table

#: Consumers named per output in `impact outputs` before the rest are counted.
CONSUMERS_NAMED = 8


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _answer_text(a: TargetAnswer) -> list[str]:
    head = f"{a.name}  {a.system}" + (
        f"  ({', '.join(a.jobs[:3])}{', …' if len(a.jobs) > 3 else ''})" if a.jobs else ""
    )
    lines = [head]
    if a.verdict is Verdict.ROOT:
        lines.append(f"  rebuilds: {a.reason}")
    elif a.verdict is Verdict.REBUILT:
        lines.append(f"  rebuilds: {a.reason}")
        if a.chain_count > 1:
            shown = len(a.chains)
            lines.append(
                f"  {_plural(a.chain_count, 'chain')} in all; "
                f"{'shortest' if shown == 1 else f'{shown} shortest (distinct by name)'}:"
            )
        for c in a.chains:
            lines.append(f"    {c.text()}")
    elif a.verdict is Verdict.CUT:
        lines.append(f"  {a.reason}")
        for cut in a.cuts:
            lines.append(f"    {cut.chain.text()}")
            lines.append(
                f"      {cut.name} keeps its output {cut.output}: its drv path changes, its output path does not"
            )
        if a.cut_count > len(a.cuts):
            lines.append(f"    … and {a.cut_count - len(a.cuts):,} more fixed-output derivations")
    else:
        lines.append(f"  {a.reason}")
    return lines


def why_text(result: WhyResult, graph: DerivationGraph) -> str:
    """`impact why`: for each target derivation, the chain by which the change reaches it, or what stops it."""
    rebuilt = sum(a.rebuilt for a in result.answers)
    lines = [
        f"impact why {result.target} --change {result.change.description}  ·  {graph.label}",
        "",
        f"{result.target}: {_plural(len(result.answers), 'derivation')}, {rebuilt:,} rebuilt",
        "",
    ]
    for a in result.answers:
        lines += _answer_text(a)
        lines.append("")
    return "\n".join(lines)


def why_json(result: WhyResult, graph: DerivationGraph) -> str:
    """`impact why --json`."""
    return dumps({"snapshot": snapshot_dict(graph), **result.to_dict()})


def _names(names: tuple[str, ...]) -> str:
    counts = Counter(names)
    shown = [f"{n}×{c}" if c > 1 else n for n, c in sorted(counts.items(), key=lambda t: (-t[1], t[0]))]
    rest = len(shown) - CONSUMERS_NAMED
    return ", ".join(shown[:CONSUMERS_NAMED]) + (f", … {rest:,} more" if rest > 0 else "")


def outputs_text(report: OutputsReport, graph: DerivationGraph) -> str:
    """`impact outputs NAME`: per derivation (system), each output with its consumers."""
    from impact.render.text import attribute_of, short_hash

    lines = [f"impact outputs {report.name}  ·  {graph.label}", ""]
    for d in report.derivations:
        attribute = attribute_of(graph, d.drv)
        attribute = attribute if attribute != "-" else "(no job)"
        lines.append(f"{attribute}  ·  {d.name}  {d.system}  drv {short_hash(d.drv)}  ({d.reason})")
        rows: list[list[Any]] = []
        for o in d.outputs:
            rows.append([o.output, len(o.consumers), o.fixed_output_consumers, len(o.jobs), o.cutoff_rebuild])
        lines.append(
            "\n".join(
                "  " + line
                for line in table(
                    rows, ["output", "derivations", "of them fixed-output", "jobs", "rebuild if only it changed*"]
                ).splitlines()
            )
        )
        for o in d.outputs:
            plain = o.consumers[: len(o.consumers) - o.fixed_output_consumers]
            fetches = (
                f"{o.fixed_output_consumers:,} fixed-output (the change stops there)"
                if o.fixed_output_consumers
                else ""
            )
            if plain or fetches:
                lines.append(f"  {o.output}: " + "; ".join(x for x in (_names(plain) if plain else "", fetches) if x))
        lines.append(
            f"  {_plural(d.consumers, 'consumer')} in all; "
            f"any edit of it rebuilds {d.rebuild_today:,} derivations today"
        )
        lines.append("")
    lines.append("* what-if: content-addressed derivations with early cutoff (RFC 62), counting the derivation itself")
    return "\n".join(lines)


def outputs_json(report: OutputsReport, graph: DerivationGraph) -> str:
    """`impact outputs --json`."""
    return dumps({"snapshot": snapshot_dict(graph), **report.to_dict()})


def blast_text(blast: BlastRadius) -> str:
    """The blast-radius section of `impact estimate`."""
    if blast.direct_dependents:
        lines = [f"Blast radius: {_plural(blast.direct_dependents, 'direct dependent')} of the roots; the heaviest:"]
    else:
        lines = ["Blast radius: the roots have no dependents of their own (beyond what every commit rebuilds)."]
    rows = [[c.name, c.system, ", ".join(c.takes), c.derivations, c.jobs] for c in blast.carriers]
    if rows:
        lines += [
            "  " + line
            for line in table(rows, ["dependent", "system", "takes", "derivations", "jobs"], right_from=3).splitlines()
        ]
    n = len(blast.leaf_jobs)
    lines.append(
        f"Building these {_plural(n, 'leaf job')} rebuilds {'all ' if not blast.uncovered else ''}{blast.covered:,}"
        f"{'' if not blast.uncovered else f' of {blast.total:,}'} derivations"
        + (f" ({blast.uncovered:,} are built by no job)" if blast.uncovered else "")
        + ":"
    )
    items = list(blast.leaf_jobs[:LEAVES_LISTED]) + (
        [f"… {n - LEAVES_LISTED:,} more (--json lists all)"] if n > LEAVES_LISTED else []
    )
    line = ""
    for item in items:
        if line and len(line) + len(item) > 108:
            lines.append("  " + line.rstrip())
            line = ""
        line += item + ", "
    if line:
        lines.append("  " + line.rstrip(", "))
    return "\n".join(lines)


def _counts(result: RebuildEstimate) -> tuple[int, int, int]:
    return result.changed_job_count, result.derivations_to_build, len(result.nixos_tests)


def only_output_text(what: OnlyOutputWhatIf) -> str:
    """The early-cutoff what-if beside today's answer."""
    wj, wd, wt = _counts(what.what_if)
    tj, td, tt = _counts(what.today)
    rows = [
        ["changed jobs", tj, wj],
        ["derivations to build", td, wd],
        ["NixOS VM tests", tt, wt],
    ]
    lines = [
        f"What-if: only the {what.output!r} output changes, with content-addressed derivations (RFC 62 early cutoff)",
        "  " + "\n  ".join(table(rows, ["", "today (input-addressed)", f"what-if (only {what.output})"]).splitlines()),
        f"  {_plural(what.cut_consumers, 'direct consumer')} taking only other outputs would be cut off.",
    ]
    if what.without_output:
        lines.append(
            f"  Roots without a {what.output!r} output (their consumers are cut off too): "
            f"{', '.join(sorted(set(what.without_output)))}"
        )
    every_jobs = sum(len(v) for v in what.today.every_commit_jobs.values())
    if every_jobs or what.today.every_commit_derivations:
        lines.append(
            f"  Both columns include the {every_jobs:,} jobs and "
            f"{what.today.every_commit_derivations:,} derivations any "
            "commit changes (they embed the nixpkgs source tree)."
        )
    lines.append(f"  Assumes {CUTOFF_ASSUMPTION}.")
    return "\n".join(lines)


def split_text(what: SplitWhatIf) -> str:
    """The split what-if: who would switch to the new output, what the graph says, what it cannot."""
    switching = what.switching
    lines = [f"What-if: split {what.output!r} into its own output of {', '.join(sorted(set(what.packages)))}"]
    if what.already_split:
        lines.append(f"  Already has a {what.output!r} output: {', '.join(sorted(set(what.already_split)))}")
    lines.append(
        f"  {_plural(len(what.consumers), 'direct consumer')}; {len(switching):,} would take {what.output!r} "
        "(they take it already, or take it from other packages)"
    )
    for c in switching[:CONSUMERS_NAMED]:
        lines.append(f"    {c.name}  {c.system}  takes {','.join(c.takes)}; {c.because}")
    if len(switching) > CONSUMERS_NAMED:
        lines.append(f"    … {len(switching) - CONSUMERS_NAMED:,} more (--json lists all)")
    keep = len(what.consumers) - len(switching)
    lines.append(f"    {keep:,} keep what they take today, without the {what.output!r} files in their closure")
    sj, sd, _ = _counts(what.split_itself)
    lj, ld, _ = _counts(what.later_change_cutoff)
    if len(set(what.already_split)) == len(set(what.packages)):
        lines.append(
            f"  Nothing to split: a change to {what.output!r} alone rebuilds {sj:,} jobs, {sd:,} derivations today "
            f"(input-addressed); with early cutoff (content-addressed, a what-if) {lj:,} jobs, {ld:,} derivations."
        )
    else:
        lines.append(f"  Making the split edits the package: {sj:,} jobs, {sd:,} derivations to build once.")
        lines.append(
            f"  Afterwards a change to {what.output!r} alone rebuilds the same today (input-addressed); "
            "with early cutoff "
            f"(content-addressed, a what-if) {lj:,} jobs, {ld:,} derivations."
        )
    lines.append("  Cannot be known without building:")
    lines += [f"    - {u}" for u in SPLIT_UNKNOWNS]
    return "\n".join(lines)


def estimate_sections_text(sections: EstimateSections) -> str:
    """The optional sections of `impact estimate`, in text, to print after the estimate."""
    parts = []
    if sections.blast is not None:
        parts.append(blast_text(sections.blast))
    if sections.only_output is not None:
        parts.append(only_output_text(sections.only_output))
    if sections.split is not None:
        parts.append(split_text(sections.split))
    return "\n\n".join(parts)


def estimate_sections_json(estimate_json_text: str, sections: EstimateSections) -> str:
    """`impact estimate --json` with the optional sections' keys added."""
    import json

    return dumps({**json.loads(estimate_json_text), **sections.to_dict()})
