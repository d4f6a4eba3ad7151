"""What `impact estimate --git` adds to an estimate: the verdict, jobs added, removed and broken, and how the
answer was reached (changed files, candidates, Nix processes), in text, JSON and Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from impact.render.escape import code_span, inline_text

if TYPE_CHECKING:
    from impact.gitchange import GitAnswer

#: How many jobs or files a text or Markdown list shows before "… and N more".
SHOWN = 10


def verdict_line(git: GitAnswer) -> str:
    """`Verdict: exact …` or `Verdict: not exact — REASON` (one line; further reasons follow, indented)."""
    v = git.verdict
    evaluated = git.outcome.evaluated
    if v.exact:
        return (
            f"Verdict: exact — every changed file bounded, {_n(evaluated.get('head', 0), 'candidate job')} evaluated by"
            f" Nix in BASE and HEAD, the snapshot is BASE's"
        )
    lines = [f"Verdict: not exact — {v.reasons[0]}"]
    lines += [f"  - {r}" for r in v.reasons[1:]]
    return "\n".join(lines)


def _n(count: int, noun: str) -> str:
    """`1 job`, `2 jobs`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _listed(jobs: dict[str, list[str]] | dict[str, dict[str, str]]) -> list[str]:
    return [f"{js}:{a}" for js in sorted(jobs) for a in sorted(jobs[js])]


def _more(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" … and {len(items) - SHOWN:,} more" if len(items) > SHOWN else "")


def git_text(git: GitAnswer) -> str:
    """The lines under the estimate table: files, added, removed and broken jobs, the verdict."""
    out = git.outcome
    lines = [f"Change: {git.range.label}, {_n(len(git.files), 'file')} changed"]
    for path, change in sorted(git.file_changes.items()):
        if not change.units or change.why != "changed":
            lines.append(f"  {path}: {change.why}")
    added, removed = _listed(out.added), _listed(out.removed)
    if added:
        lines.append(f"Added jobs ({len(added):,}): {_more(added)}")
    if removed:
        lines.append(f"Removed jobs ({len(removed):,}): {_more(removed)}")
    broken = _listed(out.broken)
    if broken:
        lines.append(f"No longer evaluate ({len(broken):,}), breaks, not rebuilds:")
        for js in sorted(out.broken):
            for attr, message in sorted(out.broken[js].items())[:SHOWN]:
                lines.append(f"  {js}:{attr}: {message}")
    if out.repointed:
        repointed = sorted(f"{js}:{a}" for js, a in out.repointed)
        lines.append(f"Re-pointed to derivations BASE has ({len(repointed):,}): {_more(repointed)}")
    lines.append(
        f"Evaluated: {_n(out.evaluated.get('base', 0), 'job')} in BASE, {out.evaluated.get('head', 0):,} in HEAD"
        f" ({len(git.candidates.reached):,} files and bindings read the change)"
    )
    lines.append(verdict_line(git))
    return "\n".join(lines) + "\n"


def git_json(git: GitAnswer) -> dict[str, Any]:
    """The keys `--json` adds: `verdict`, `added_jobs`, `removed_jobs` (in the shape of `changed_jobs`),
    `broken_jobs` (attribute → Nix's message) and `git` (how the answer was reached)."""
    out = git.outcome
    return {
        "verdict": git.verdict.to_dict(),
        "added_jobs": {js: sorted(v) for js, v in sorted(out.added.items()) if v},
        "removed_jobs": {js: sorted(v) for js, v in sorted(out.removed.items()) if v},
        "broken_jobs": {js: dict(sorted(v.items())) for js, v in sorted(out.broken.items()) if v},
        "git": git.how(),
    }


def git_markdown(git: GitAnswer) -> str:
    """A Markdown section: the verdict, then the jobs added, removed and broken, each list closed."""
    out = git.outcome
    v = git.verdict
    head = "exact" if v.exact else "not exact"
    lines = [f"**Verdict: {head}** ({inline_text(git.range.label)}, {_n(len(git.files), 'file')} changed)", ""]
    for reason in v.reasons:
        lines.append(f"- {inline_text(reason)}")
    for title, jobs in (("added", _listed(out.added)), ("removed", _listed(out.removed))):
        if jobs:
            lines += ["", f"<details><summary>{_n(len(jobs), 'job')} {title}</summary>", ""]
            lines += [f"- {code_span(j)}" for j in jobs[:200]]
            lines += ["", "</details>"]
    if out.broken:
        broken = len(_listed(out.broken))
        lines += ["", f"<details><summary>{_n(broken, 'job')} no longer evaluate{'s' if broken == 1 else ''}</summary>"]
        lines += [""]
        for js in sorted(out.broken):
            for attr, message in sorted(out.broken[js].items())[:200]:
                lines.append(f"- {code_span(js + ':' + attr)}: {code_span(message)}")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
