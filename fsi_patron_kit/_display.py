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


#: Row labels that name personal data (compared without case, "_", spaces and trailing digits).
PERSONAL_LABELS = frozenset({
    "name", "fullname", "firstname", "surname", "lastname", "middlename", "preferredfirstname", "username",
    "email", "phone", "mobilephone", "addressline", "city", "province", "region", "zip", "postalcode",
    "dateofbirth",
})
HIDDEN = "(hidden: personal)"


def is_personal(label: str) -> bool:
    return label.lower().replace("_", "").replace(" ", "").rstrip("0123456789") in PERSONAL_LABELS


def shown(label: str, value: Any) -> Any:
    """``value`` as a repr may show it: personal values hidden unless ``options.show_personal_data``."""
    from .options import options

    if value in (None, "") or options.show_personal_data or not is_personal(label):
        return value
    return HIDDEN


def card(title: str, rows: Iterable[tuple[str, Any]], *, details: dict[str, str] | None = None) -> str:
    """A titled two-column table, with optional collapsible sections (e.g. the raw payload).

    Personal values (names, emails, phones, addresses) show only with
    ``pk.options.show_personal_data = True``.
    """
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_text(shown(str(k), v)))}</td></tr>" for k, v in rows
    )
    extra = "".join(
        f"<details><summary>{html.escape(name)}</summary><pre>{html.escape(text)}</pre></details>"
        for name, text in (details or {}).items()
    )
    return f"{_STYLE}<div class='pk-card'><strong>{html.escape(title)}</strong><table>{body}</table>{extra}</div>"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def check_progress(progress: Any) -> Progress:
    if not (isinstance(progress, bool) or progress in ("auto", "text", "off")):
        raise InputError("progress", "must be True, False, 'auto', 'text' or 'off'")
    return progress


def progress_bar(progress: Progress, *, desc: str, total: int | None = None, unit: str = " rows") -> Any:
    """One tqdm bar, or a silent one. ``"text"`` avoids the widget where ipywidgets is missing."""
    if check_progress(progress) == "text":
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(desc=desc, total=total, unit=unit, disable=progress in (False, "off"))


def masked_body(value: Any) -> Any:
    """A JSON body with personal fields hidden, unless ``options.show_personal_data``."""
    if isinstance(value, dict):
        return {k: masked_body(v) if isinstance(v, dict | list) else shown(str(k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_body(v) for v in value]
    return value


def attrs_card(title: str, instance: Any) -> str:
    """A card of an attrs instance's fields, in order (for small result objects)."""
    import attrs

    return card(title, [(f.name, getattr(instance, f.name)) for f in attrs.fields(type(instance)) if f.repr])
