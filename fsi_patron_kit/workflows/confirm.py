"""A confirm-before-apply panel for notebooks: counts, a sample of changes, Apply / Cancel.

It calls the same functions a headless run calls (:meth:`Plan.validate`, :meth:`Plan.preview`,
:meth:`Plan.apply`), so a notebook that runs without widgets does exactly what the panel does.
"""

from __future__ import annotations

from typing import Any

from .bulk import Plan, Result

__all__ = ["confirm_panel"]


def confirm_panel(plan: Plan, client: Any, *, sample: int = 10, **apply_options: Any) -> Any:
    """An ipywidgets panel; Apply runs ``plan.apply(client, **apply_options)``.

    The result is kept on the panel as ``panel.result`` once applied. Apply is disabled while
    the plan has refused rows.
    """
    import ipywidgets as widgets

    refused = plan.validate()
    counts = plan.counts()
    summary = widgets.HTML(
        f"<b>{counts['changes']} changes to {counts['records']} records</b>; "
        + ", ".join(f"{field}: {n}" for field, n in counts["by_field"].items())
        + (f"<br><span style='color:#b00'>{len(refused)} rows refused: see plan.validate()</span>" if len(refused)
           else ""))
    changes = widgets.HTML(plan.preview(limit=sample)._repr_html_())
    apply_button = widgets.Button(description="Apply", button_style="danger", disabled=bool(len(refused)))
    cancel_button = widgets.Button(description="Cancel")
    output = widgets.Output()
    panel = widgets.VBox([summary, changes, widgets.HBox([apply_button, cancel_button]), output])
    panel.result = None

    def on_apply(_: Any) -> None:
        apply_button.disabled = cancel_button.disabled = True
        with output:
            result: Result = plan.apply(client, **apply_options)
            panel.result = result
            print(repr(result))

    def on_cancel(_: Any) -> None:
        apply_button.disabled = cancel_button.disabled = True
        with output:
            print("Cancelled: nothing was sent.")

    apply_button.on_click(on_apply)
    cancel_button.on_click(on_cancel)
    return panel
