"""The success criteria's evaluation on one A4 page, for the tenant's board (fpdf2).

The PDF core fonts hold Latin-1 only, which covers English and Norwegian; anything
else in a name is replaced rather than breaking the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from nyby.core.pdf import latin1
from nyby.reporting.labels import format_value, status_name, trend_name
from nyby.tenancy.models import Tenant

# One page: more criteria than this are left to the CSV, and the page says so.
MOST_ROWS = 22


def board_pdf(
    tenant: Tenant, criteria: list[dict[str, Any]], totals: dict[str, Any], now: datetime
) -> bytes:
    tz = ZoneInfo(tenant.timezone)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(latin1(_("Success criteria: %(tenant)s", tenant=tenant.name)))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, latin1(_("Success criteria: %(tenant)s", tenant=tenant.name)))
    pdf.ln(10)
    pdf.set_font("Helvetica", "", 9)
    stamp = now.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    pdf.cell(0, 6, latin1(_("Evaluated from the data, as of %(when)s.", when=stamp)))
    pdf.ln(9)

    pdf.set_font("Helvetica", "", 9)
    headings = (
        _("Criterion"),
        _("Target"),
        _("Latest value"),
        _("Status"),
        _("Trend"),
    )
    with pdf.table(
        col_widths=(70, 30, 30, 25, 25),
        text_align=("LEFT", "RIGHT", "RIGHT", "LEFT", "LEFT"),
        line_height=5.5,
    ) as table:
        table.row([latin1(h) for h in headings])
        for view in criteria[:MOST_ROWS]:
            latest = view["latest"] or {}
            value = latest.get("value")
            target = format_value(view["target"], view["unit"])
            table.row(
                [
                    latin1(view["name"]),
                    latin1(f"{_comparison(view['comparison'])} {target}"),
                    latin1(format_value(value, view["unit"]) if value is not None else "-"),
                    latin1(status_name(latest.get("status"))),
                    latin1(trend_name(latest.get("trend"))),
                ]
            )
    if len(criteria) > MOST_ROWS:
        pdf.ln(2)
        pdf.cell(0, 5, latin1(_("%(num)s more in the CSV export.", num=len(criteria) - MOST_ROWS)))
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, latin1(_("Since the start (the NHS evaluation's Table 2, all roles)")))
    pdf.ln(8)
    pdf.set_font("Helvetica", "", 9)
    facts = (
        (_("Approved volunteers"), str(totals["approved_volunteers"])),
        (_("Volunteers ever on duty"), str(totals["volunteers_on_duty"])),
        (_("Tasks created"), str(totals["tasks_created"])),
        (_("Tasks completed"), str(totals["tasks_completed"])),
        (_("Completed"), format_value(totals["completion_rate"], "fraction")),
        (_("Average completed per month"), f"{totals['completed_per_month']:g}"),
    )
    for label, value in facts:
        pdf.cell(80, 5.5, latin1(label), new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(30, 5.5, latin1(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def _comparison(comparison: str) -> str:
    return _("at least") if comparison == "at_least" else _("at most")
