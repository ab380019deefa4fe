"""Small, escaped HTML building blocks for notebook reprs.

Everything that reaches HTML is escaped here, so a patron named ``<script>`` shows as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, Literal

from .errors import InputError

#: How a long call shows progress: off, a widget in Jupyter (text elsewhere), or text.
Progress = bool | Literal["auto", "text", "off"]

_STYLE = (
    "<style>.pk-card{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px}"
    ".pk-card table{border-collapse:collapse}.pk-card th{text-align:left;padding:2px 12px 2px 0;"
    "color:#555;font-weight:normal}.pk-card td{padding:2px 0}.pk-card summary{cursor:pointer;"
    "color:#555}</style>"
)


def card(title: str, rows: Iterable[tuple[str, Any]], *, details: dict[str, str] | None = None) -> str:
    """A titled two-column table, with optional collapsible sections (e.g. the raw payload)."""
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_text(v))}</td></tr>" for k, v in rows
    )
    extra = "".join(
        f"<details><summary>{html.escape(name)}</summary><pre>{html.escape(text)}</pre></details>"
        for name, text in (details or {}).items()
    )
    return f"{_STYLE}<div class='pk-card'><strong>{html.escape(title)}</strong><table>{body}</table>{extra}</div>"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def progress_bar(progress: Progress, *, desc: str, total: int | None = None, unit: str = " rows") -> Any:
    """One tqdm bar, or a silent one. ``"text"`` avoids the widget where ipywidgets is missing."""
    if progress not in (True, False, "auto", "text", "off"):
        raise InputError("progress", "must be True, False, 'auto', 'text' or 'off'")
    if progress == "text":
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(desc=desc, total=total, unit=unit, disable=progress in (False, "off"))
