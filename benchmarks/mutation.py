"""Mutation score of the modules that guard secrets, retries, answers and frames.

Reads what ``mutmut run`` left in ``mutants/`` (``make mutation`` runs it one module at a time)
and prints one row per module: killed, survived, no tests, timeout, the equivalent mutants
excluded, those not checked (a run limited to some mutants), and the score,
``(killed + timeout) / (mutants - equivalent - not checked)``. A timeout counts as
caught: the mutant made the tests hang (a retry loop that never ends) and was stopped.

Equivalent mutants are listed, each with its reason, in the "Equivalent mutants" table of
``docs/testing.md``, the one list there is; a listed mutant that no longer exists or that the
tests now kill is reported, so the list cannot go stale quietly. The wire modules are split into
their decoding (functions) and their auth (the classes' methods).

Run ``make mutation``, or ``.venv/bin/python benchmarks/mutation.py [--json FILE]`` after a run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "testing.md"
TARGET = 90.0  # percent of non-equivalent mutants killed, per row

#: module -> (source path, whether its classes' methods are shown as a separate "auth" row)
MODULES = {
    "fsi_patron_kit._redact": ("fsi_patron_kit/_redact.py", False),
    "fsi_patron_kit._http": ("fsi_patron_kit/_http.py", False),
    "fsi_patron_kit._frames": ("fsi_patron_kit/_frames.py", False),
    "fsi_patron_kit.fsi._wire": ("fsi_patron_kit/fsi/_wire.py", True),
    "fsi_patron_kit.folio._wire": ("fsi_patron_kit/folio/_wire.py", True),
    "fsi_patron_kit.polaris.conversation": ("fsi_patron_kit/polaris/conversation.py", False),
    "fsi_patron_kit.workflows.journal": ("fsi_patron_kit/workflows/journal.py", False),
}
# mutmut's exit codes (as in mutmut.stats): 1 and 3 mean a test failed, 0 that all passed.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout",
          24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}
COLUMNS = ("killed", "survived", "no tests", "timeout", "not checked", "other")


def equivalents(doc: Path = DOC) -> dict[str, str]:
    """The mutants listed as equivalent in the docs, with their reasons."""
    listed: dict[str, str] = {}
    in_section = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            in_section = line.lstrip("#").strip() == "Equivalent mutants"
        match = re.match(r"\|\s*`([\w.ǁ]+__mutmut_\d+)`\s*\|(.*)\|\s*$", line) if in_section else None
        if match:
            listed[match.group(1)] = match.group(2).split("|")[-1].strip()
    return listed


def results(mutants: Path) -> dict[str, int | None]:
    """Every mutant's exit code from mutmut's ``.meta`` files."""
    found: dict[str, int | None] = {}
    for _module, (path, _) in MODULES.items():
        meta = mutants / (path + ".meta")
        if meta.exists():
            found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return found


def row_of(name: str) -> str:
    module, _, function = name.rpartition(".")
    split = MODULES.get(module, ("", False))[1]
    if not split:
        return module
    return f"{module} ({'auth' if function.startswith('xǁ') else 'decoding'})"


def table(codes: dict[str, int | None], excluded: dict[str, str]) -> tuple[list[dict], list[str]]:
    rows: dict[str, Counter] = {}
    problems = [f"listed as equivalent but not a mutant of this run: {name}" for name in excluded if name not in codes]
    for name, code in sorted(codes.items()):
        counts = rows.setdefault(row_of(name), Counter())
        counts["mutants"] += 1
        if name in excluded:
            counts["equivalent"] += 1
            if STATUS.get(code) != "survived":
                problems.append(f"listed as equivalent but {STATUS.get(code, 'other')}: {name}")
            continue
        status = STATUS.get(code, "other")
        counts[status if status in COLUMNS else "other"] += 1
    out = []
    for name in sorted(rows):
        counts = rows[name]
        out.append({"module": name, **{c: counts[c] for c in ("mutants", *COLUMNS, "equivalent")},
                    "score": _score(counts)})
    return out, problems


def _score(counts) -> float | None:
    """Percent caught of the mutants that were checked and are not equivalent (None: none checked)."""
    judged = counts["mutants"] - counts["equivalent"] - counts["not checked"]
    return round(100.0 * (counts["killed"] + counts["timeout"]) / judged, 1) if judged else None


def render(rows: list[dict]) -> str:
    head = ["module", "mutants", "killed", "survived", "no tests", "timeout", "equivalent", "not checked", "score"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = Counter()
    for row in [*rows, None]:
        if row is None:
            row = {"module": "all", **total, "score": _score(total)}
        else:
            total.update({k: v for k, v in row.items() if isinstance(v, int)})
        shown = "not run" if row["score"] is None else f"{row['score']:.1f} %"
        name = row["module"] if row["module"] == "all" else f"`{row['module']}`"
        lines.append(f"| {name} | {row['mutants']} | {row['killed']} | {row['survived']} | {row['no tests']} | "
                     f"{row['timeout']} | {row['equivalent']} | {row['not checked']} | {shown} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants", help="where mutmut ran")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    codes = results(args.mutants)
    if not codes:
        print(f"no mutation results under {args.mutants}: run `make mutation` first", file=sys.stderr)
        return 1
    rows, problems = table(codes, equivalents())
    print(render(rows))
    for row in rows:
        if row["score"] is not None and row["score"] < TARGET:
            print(f"below {TARGET:.0f} %: {row['module']}")
    for problem in problems:
        print(problem)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
