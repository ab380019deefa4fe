"""Execute every notebook against the embedded sandbox and keep the results as HTML.

``make demo`` runs this. Each notebook starts its own sandbox from its parameters cell, so the
demo needs nothing running beforehand. Cells tagged ``summary`` have their text output printed
at the end: that is each notebook's answer in a line or two. ``index.html`` beside the
executed notebooks links them, with the same lines.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import attrs

#: Kernels log at ERROR only: their warnings (a local kernel reached over TCP without
#: encryption) say nothing about the notebooks.
KERNEL_ARGUMENTS = ["--log-level=ERROR"]


@attrs.frozen
class Result:
    """One executed notebook: where it came from, where its HTML went, and what it found."""

    notebook: Path
    html: Path
    status: str
    seconds: float
    code_cells: int
    summary: list[str]

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_demo(notebooks: str | Path, output: str | Path) -> int:
    source, target = Path(notebooks), Path(output)
    paths = sorted(p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        print(_nothing_to_run(source))
        return 1
    results = [_execute(path, source, target) for path in paths]
    index = _write_index(results, target)
    lines = ["", "patron-kit demo"]
    for result in results:
        lines.append(f"{result.notebook}: {result.status}, {result.code_cells} code cells in {result.seconds:.1f}s")
        lines += [f"    {text}" for text in result.summary]
    passed = sum(r.ok for r in results)
    lines += ["", f"{passed} of {len(results)} notebooks ran cleanly; open {index} to read them."]
    print("\n".join(lines))
    return 0 if passed == len(results) else 1


def _nothing_to_run(source: Path) -> str:
    where = "does not exist" if not source.exists() else "holds no notebooks"
    return (f"patron-kit demo: the folder {str(source)!r} {where}.\n"
            "The demo runs the notebooks of a copy of the fsi_patron_kit repository: clone it and run\n"
            "`make demo` (or `patron-kit demo`) in its top folder, or point to the notebooks with\n"
            "`patron-kit demo --notebooks PATH`.")


def _execute(path: Path, source: Path, target: Path) -> Result:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    relative = path.relative_to(source)
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    try:
        NotebookClient(notebook, timeout=600, kernel_name="python3", extra_arguments=list(KERNEL_ARGUMENTS),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        status = "ok"
    except CellExecutionError as exc:
        status = f"FAILED: {str(exc).strip().splitlines()[-1]}"
    seconds = time.perf_counter() - started
    html_path = (target / relative).with_suffix(".html")
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(HTMLExporter().from_notebook_node(notebook)[0], encoding="utf-8")
    code_cells = sum(1 for c in notebook.cells if c.cell_type == "code")
    return Result(notebook=relative, html=html_path, status=status, seconds=seconds, code_cells=code_cells,
                  summary=_summaries(notebook))


def _write_index(results: list[Result], target: Path) -> Path:
    """``index.html``: each executed notebook, linked, with its status and one-line results."""
    items = []
    for result in results:
        link = html.escape(result.html.relative_to(target).as_posix(), quote=True)
        found = "".join(f"<li>{html.escape(text)}</li>" for text in result.summary)
        items.append(
            f"<tr><td><a href='{link}'>{html.escape(str(result.notebook))}</a></td>"
            f"<td class='{'ok' if result.ok else 'failed'}'>{html.escape(result.status)}</td>"
            f"<td>{result.seconds:.1f} s</td><td><ul>{found}</ul></td></tr>")
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>patron-kit demo</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border-bottom:1px solid #ddd;padding:6px 12px;text-align:left;vertical-align:top}"
        "ul{margin:0;padding-left:1.2em}.ok{color:#1a7f37}.failed{color:#cf222e}</style></head><body>"
        "<h1>patron-kit demo</h1><p>Every notebook, executed against the embedded sandbox.</p>"
        "<table><tr><th>notebook</th><th>status</th><th>time</th><th>what it found</th></tr>"
        f"{''.join(items)}</table></body></html>")
    index = target / "index.html"
    target.mkdir(parents=True, exist_ok=True)
    index.write_text(page, encoding="utf-8")
    return index


def _summaries(notebook) -> list[str]:
    texts: list[str] = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or "summary" not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            texts += [line for line in str(text).splitlines() if line.strip()]
    return texts
