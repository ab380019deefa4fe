"""Execute every notebook against the embedded sandbox and keep the results as HTML.

``make demo`` runs this. Each notebook starts its own sandbox from its parameters cell, so the
demo needs nothing running beforehand. Cells tagged ``summary`` have their text output printed
at the end: that is each notebook's answer in a line or two.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def run_demo(notebooks: str | Path, output: str | Path) -> int:
    source, target = Path(notebooks), Path(output)
    paths = sorted(p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        print(f"no notebooks under {source}")
        return 1
    failures = 0
    lines: list[str] = []
    for path in paths:
        relative = path.relative_to(source)
        notebook = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        try:
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
            status = "ok"
        except CellExecutionError as exc:
            failures += 1
            status = f"FAILED: {str(exc).strip().splitlines()[-1]}"
        seconds = time.perf_counter() - started
        html_path = (target / relative).with_suffix(".html")
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(HTMLExporter().from_notebook_node(notebook)[0], encoding="utf-8")
        code_cells = sum(1 for c in notebook.cells if c.cell_type == "code")
        lines.append(f"{relative}: {status}, {code_cells} code cells in {seconds:.1f}s -> {html_path}")
        lines += [f"    {text}" for text in _summaries(notebook)]
    print("\n".join(["", "patron-kit demo", *lines, "", f"{len(paths) - failures} of {len(paths)} notebooks ran cleanly."]))
    return 1 if failures else 0


def _summaries(notebook: nbformat.NotebookNode) -> list[str]:
    texts: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or "summary" not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            texts += [line for line in str(text).splitlines() if line.strip()]
    return texts
