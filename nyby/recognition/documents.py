"""The activity record as files: CSV, and a one-page PDF (fpdf2, core fonts) carrying its
verification code and public link. Both are rendered from the figures frozen when the
record was issued, so what an employer checks online matches the paper."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from fpdf import FPDF

from nyby.core.pdf import latin1
from nyby.core.spreadsheet import safe_cell
from nyby.recognition.models import ActivityRecord
from nyby.recognition.names import MILESTONE_NAMES, TIER_NAMES


def verify_url(record: ActivityRecord, slug: str) -> str:
    return url_for("web.verify_record", tenant=slug, token=record.code, _external=True)


def day(value: str | None) -> str:
    return format_date(date.fromisoformat(value), "medium") if value else ""


def _number(value: float) -> str:
    return f"{value:g}"


def badge_text(badge: dict[str, Any]) -> str:
    tier = str(TIER_NAMES.get(badge["tier"], badge["tier"]))
    milestone = str(MILESTONE_NAMES.get(badge["milestone"], badge["milestone"]))
    return _(
        "%(tier)s: %(threshold)s %(milestone)s",
        tier=tier.capitalize(),
        threshold=badge["threshold"],
        milestone=milestone,
    )


def lines(record: ActivityRecord, slug: str) -> list[tuple[str, str, str, str]]:
    """The record as (section, item, value, detail) rows: the CSV's, in the reader's language."""
    f = record.figures
    rows: list[tuple[str, str, str, str]] = [
        (_("This record"), _("Name"), f["name"], ""),
        (_("This record"), _("Organisation"), f["tenant"], ""),
        (_("This record"), _("Member since"), day(f["member_since"]), ""),
        (_("This record"), _("Issued on"), format_date(record.issued_at, "medium"), ""),
        (_("This record"), _("Verification code"), record.code, ""),
        (_("This record"), _("Check it at"), verify_url(record, slug), ""),
        (_("Activity"), _("Tasks completed"), str(f["tasks_completed"]), ""),
        (_("Activity"), _("Hours"), _number(f["hours"]), ""),
        (_("Activity"), _("Different people helped"), str(f["clients_helped"]), ""),
        (_("Activity"), _("First task"), day(f["first_task_on"]), ""),
        (_("Activity"), _("Latest task"), day(f["last_task_on"]), ""),
    ]
    for role in f["by_role"]:
        rows.append(
            (
                _("Tasks by role"),
                role["role"],
                str(role["tasks"]),
                _("%(hours)s hours", hours=_number(role["hours"])),
            )
        )
    for check in f["checks"]:
        valid = (
            _("valid until %(date)s", date=day(check["valid_until"]))
            if check["valid_until"]
            else _("no expiry")
        )
        rows.append((_("Checks held"), check["check"], day(check["verified_on"]), valid))
    for badge in f["badges"]:
        rows.append((_("Badges"), badge_text(badge), day(badge["awarded_on"]), ""))
    rows.append((_("Thanks"), _("Thumbs-up from coordinators"), str(f["thanks_received"]), ""))
    average = f["average_rating"]
    rows.append(
        (
            _("Thanks"),
            _("Feedback ratings"),
            str(f["ratings"]),
            _("average %(rating)s out of 5", rating=_number(average))
            if average is not None
            else "",
        )
    )
    return rows


def as_csv(record: ActivityRecord, slug: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Section"), _("Item"), _("Value"), _("Detail")])
    for row in lines(record, slug):
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


# Lists are cut to fit one page; the CSV and the verification page hold them all.
MOST_ROWS = 8


def as_pdf(record: ActivityRecord, slug: str) -> bytes:
    f = record.figures
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(latin1(_("Volunteering record: %(name)s", name=f["name"])))
    pdf.set_author(latin1(f["tenant"]))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def text(line: str, size: float = 10, style: str = "", height: float = 5.5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, height, latin1(line), new_x="LMARGIN", new_y="NEXT")

    def heading(line: str) -> None:
        pdf.ln(2)
        text(line, 12, "B", 7)

    def pairs(rows: list[tuple[str, str]]) -> None:
        pdf.set_font("Helvetica", "", 10)
        for label, value in rows:
            pdf.set_font("Helvetica", "", 10)
            pdf.cell(width * 0.45, 5.5, latin1(label))
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(width * 0.55, 5.5, latin1(value), new_x="LMARGIN", new_y="NEXT")

    text(_("Volunteering record"), 18, "B", 10)
    text(f["name"], 14, "B", 8)
    text(
        _(
            "Volunteer with %(tenant)s since %(date)s",
            tenant=f["tenant"],
            date=day(f["member_since"]),
        )
    )
    text(_("Issued on %(date)s", date=format_date(record.issued_at, "long")))

    heading(_("Activity"))
    pairs(
        [
            (_("Tasks completed"), str(f["tasks_completed"])),
            (_("Hours"), _number(f["hours"])),
            (_("Different people helped"), str(f["clients_helped"])),
            (_("First task"), day(f["first_task_on"]) or "-"),
            (_("Latest task"), day(f["last_task_on"]) or "-"),
            (_("Thumbs-up from coordinators"), str(f["thanks_received"])),
            (
                _("Feedback ratings"),
                _(
                    "%(count)s, average %(rating)s out of 5",
                    count=f["ratings"],
                    rating=_number(f["average_rating"]),
                )
                if f["average_rating"] is not None
                else "0",
            ),
        ]
    )
    if f["by_role"]:
        heading(_("Tasks by role"))
        pairs(
            [
                (
                    role["role"],
                    _(
                        "%(tasks)s tasks, %(hours)s hours",
                        tasks=role["tasks"],
                        hours=_number(role["hours"]),
                    ),
                )
                for role in f["by_role"][:MOST_ROWS]
            ]
        )
    if f["checks"]:
        heading(_("Checks held"))
        pairs(
            [
                (
                    check["check"],
                    _("valid until %(date)s", date=day(check["valid_until"]))
                    if check["valid_until"]
                    else _("no expiry"),
                )
                for check in f["checks"][:MOST_ROWS]
            ]
        )
    if f["badges"]:
        heading(_("Badges"))
        text(", ".join(badge_text(badge) for badge in f["badges"]))

    heading(_("Is this record genuine?"))
    text(
        _(
            "Check it online: open the link below, or go to the address and enter the code. "
            "It shows the figures as issued on this date."
        ),
        9,
    )
    pairs([(_("Verification code"), record.code)])
    pdf.set_font("Helvetica", "", 9)
    link = verify_url(record, slug)
    pdf.multi_cell(width, 5, latin1(link), link=link, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(pdf.h - 18)
    text(
        _("This record holds no details of the people helped: only counts and dates."),
        8,
        "I",
        4,
    )
    return bytes(pdf.output())
