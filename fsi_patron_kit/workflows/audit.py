"""Run checks over a canonical patron frame: findings, a summary, a chart and shareable exports.

``pk.audit(pk.patrons(fsi, folio))`` runs every registered check (see :mod:`.checks`) and
returns an :class:`Audit`. Findings show personal values masked (``j***@domain``, initials)
unless ``personal=True`` was asked for; exports mask by default whatever was asked.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError
from ._masking import mask_values
from .canonical import COLUMNS
from .checks import SEVERITIES, Check, registered

__all__ = ["Audit", "audit", "FINDING_COLUMNS"]

FINDING_COLUMNS = ("vendor", "tenant", "record_key", "check", "severity", "field", "value", "detail", "row")
SHOWN_IN_HTML = 20


def audit(frame: pd.DataFrame, *, checks: Iterable[str | Check] | None = None, personal: bool = False,
          now: pd.Timestamp | str | None = None) -> Audit:
    """Run ``checks`` (every registered check by default) over a canonical ``frame``.

    Args:
        frame: patrons in the canonical columns (``pk.patrons(...)``).
        checks: names (or :class:`Check` objects) of the checks to run.
        personal: show personal values unmasked in ``findings`` (exports still mask by default).
        now: the moment expiry is judged against (the current time by default).
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(missing[0], "is missing: the audit reads the canonical frame (pk.patrons)")
    if not isinstance(personal, bool):
        raise InputError("personal", "must be True or False")
    moment = pd.Timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"))
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    chosen = registered(checks)
    patrons = frame.reset_index(drop=True)
    found = [_findings(patrons, c, moment) for c in chosen]
    findings = pd.concat(found, ignore_index=True) if found else _findings(patrons.iloc[:0], None, moment)
    return Audit(patrons, chosen, findings, personal=personal, now=moment)


def _findings(patrons: pd.DataFrame, check: Check | None, now: pd.Timestamp) -> pd.DataFrame:
    hits = check.run(patrons, now) if check else pd.DataFrame({"row": [], "field": [], "detail": []})
    rows = hits["row"].to_numpy(dtype="int64")
    values = pd.Series(pd.NA, index=hits.index, dtype="string")
    for field in hits["field"].unique():
        where = hits["field"].eq(field).to_numpy()
        values[where] = patrons[field].iloc[rows[where]].astype("string").to_numpy()
    return pd.DataFrame({
        "vendor": patrons["vendor"].iloc[rows].to_numpy(), "tenant": patrons["tenant"].iloc[rows].to_numpy(),
        "record_key": patrons["record_key"].iloc[rows].to_numpy(), "check": check.name if check else "",
        "severity": check.severity if check else "", "field": hits["field"].to_numpy(), "value": values.to_numpy(),
        "detail": hits["detail"].to_numpy(), "row": rows,
    }, columns=list(FINDING_COLUMNS)).astype({c: "string" for c in FINDING_COLUMNS if c != "row"} | {"row": "Int64"})


class Audit:
    """The result of an audit: findings, a summary, a chart and masked exports.

    ``findings`` has one row per patron, check and field: vendor, tenant, record key, check,
    severity, field, value (masked unless asked), detail, and ``row``, the patron's position in
    :attr:`patrons` (the frame audited) for drilling in.
    """

    def __init__(self, patrons: pd.DataFrame, checks: list[Check], findings: pd.DataFrame, *, personal: bool,
                 now: pd.Timestamp) -> None:
        self.patrons = patrons
        self.checks = checks
        self.now = now
        self.personal = personal
        self._findings = findings

    @property
    def findings(self) -> pd.DataFrame:
        return self._findings.copy() if self.personal else self._masked()

    def _masked(self) -> pd.DataFrame:
        masked = self._findings.copy()
        masked["value"] = mask_values(masked["value"], masked["field"])
        return masked

    @property
    def summary(self) -> pd.DataFrame:
        """Findings per check (every check run, none found included), by vendor and in total."""
        vendors = list(pd.unique(self.patrons["vendor"].dropna()))
        counts = self._findings.groupby(["check", "vendor"]).size().unstack(fill_value=0)
        table = pd.DataFrame({
            "severity": [c.severity for c in self.checks], "description": [c.description for c in self.checks],
        }, index=pd.Index([c.name for c in self.checks], name="check")).astype("string")
        for vendor in vendors:
            table[vendor] = counts[vendor].reindex(table.index, fill_value=0) if vendor in counts else 0
        table["total"] = table[vendors].sum(axis=1) if vendors else 0
        table[[*vendors, "total"]] = table[[*vendors, "total"]].astype("Int64")
        rank = table["severity"].map({s: n for n, s in enumerate(SEVERITIES)})
        return table.assign(_rank=rank).sort_values(["_rank", "total"], ascending=[True, False],
                                                    kind="stable").drop(columns="_rank")

    def counts(self) -> dict[str, int]:
        """Findings per check, as a plain dict (checks with none left out)."""
        return {k: int(v) for k, v in self._findings["check"].value_counts(sort=False).items() if v}

    def patron(self, finding: int) -> pd.Series:
        """The audited patron behind finding number ``finding`` (a row label of ``findings``)."""
        return self.patrons.iloc[int(self._findings.at[finding, "row"])]

    def fixes(self) -> pd.DataFrame:
        """The findings a check knows how to fix, as changes: vendor, tenant, record key, field,
        before and after (real values: this is what a bulk plan writes)."""
        parts = []
        for check in self.checks:
            if check.fix is None:
                continue
            mine = self._findings[self._findings["check"].eq(check.name)]
            before = mine["value"]
            parts.append(pd.DataFrame({
                "vendor": mine["vendor"], "tenant": mine["tenant"], "record_key": mine["record_key"],
                "field": mine["field"], "before": before, "after": check.fix(before).astype("string"),
                "check": check.name,
            }))
        columns = ["vendor", "tenant", "record_key", "field", "before", "after", "check"]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns, dtype="string")

    # -- sharing ---------------------------------------------------------------------------------------
    def chart(self, *, title: str = "Findings per check and vendor") -> Any:
        """A horizontal bar chart (matplotlib Figure) of findings per check, stacked by vendor."""
        import matplotlib.pyplot as plt

        summary = self.summary
        vendors = [c for c in summary.columns if c not in ("severity", "description", "total")]
        shown = summary[summary["total"] > 0].iloc[::-1]
        figure, axes = plt.subplots(figsize=(8, 0.45 * max(len(shown), 2) + 1.2))
        left = pd.Series(0, index=shown.index)
        for vendor in vendors:
            axes.barh(shown.index, shown[vendor].astype(int), left=left, label=vendor)
            left += shown[vendor].astype(int)
        axes.set_xlabel("findings")
        axes.set_title(title)
        axes.legend(title="vendor")
        figure.tight_layout()
        plt.close(figure)  # shown where it is returned, not twice
        return figure

    def to_csv(self, path: str | Path, *, mask: bool = True) -> Path:
        """Write the findings as CSV; ``mask`` (the default) masks personal values whatever ``personal`` says."""
        target = Path(path)
        self._export(mask).to_csv(target, index=False)
        return target

    def to_excel(self, path: str | Path, *, mask: bool = True) -> Path:
        """Write a workbook with a ``summary`` and a ``findings`` sheet (openpyxl), masked by default."""
        target = Path(path)
        with pd.ExcelWriter(target, engine="openpyxl") as book:
            self.summary.reset_index().to_excel(book, sheet_name="summary", index=False)
            self._export(mask).to_excel(book, sheet_name="findings", index=False)
        return target

    def _export(self, mask: bool) -> pd.DataFrame:
        if not isinstance(mask, bool):
            raise InputError("mask", "must be True or False")
        return (self._masked() if mask else self._findings).drop(columns="row")

    # -- display -----------------------------------------------------------------------------------------
    def _headline(self) -> str:
        people = self._findings["row"].nunique()
        return (f"Audit of {len(self.patrons)} patrons: {len(self._findings)} findings on {people} patrons, "
                f"{len(self.checks)} checks")

    def __repr__(self) -> str:
        summary = self.summary.drop(columns="description")
        return f"{self._headline()}\n{summary.to_string()}"

    def _repr_html_(self) -> str:
        sample = self.findings.head(SHOWN_IN_HTML).drop(columns="row")
        masked = "" if self.personal else " (personal values masked)"
        return (f"<div><strong>{html.escape(self._headline())}</strong>{self.summary.to_html()}"
                f"<details><summary>first {len(sample)} findings{masked}</summary>{sample.to_html()}</details></div>")
