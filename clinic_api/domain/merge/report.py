"""The merge report: an XLSX workbook of six sheets (migrations-merge.md §2.7). Sheet names and
order, cell texts and cell types (strings; counts as numbers) are the reference's; "" is a
present but empty cell, an empty list an empty row."""
from __future__ import annotations

import datetime as _dt
import io

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from clinic_api.domain.merge import patient_sheets
from clinic_api.domain.merge.matching import lower
from clinic_api.domain.merge.model import (ADMIN_ROLE, DUPLICATE_ACCOUNTS, LIKELY_DUPLICATES, MERGE_INTO, MRN_ONLY,
                                           NAME_ONLY, SITE_MOVE, SITE_RENAME, SITE_RETAIN, TAG_CREATE, TAG_RETAIN,
                                           TAG_SKIP, MergePlan)
from clinic_api.domain.merge.planning import clinic_name
from clinic_api.errors import InternalError

MEDIA_TYPE = "application/vnd.ms-excel"
SUMMARY = "Summary"
FIRST_COLUMN_WIDTH = 50
MAX_WIDTH = 100
SSO_NOTE = ("*If the target clinic has partial SSO and the source clinic does not, the clinic users in the source "
            "clinic should be manually invited to the target clinic before the merge. This way their SSO "
            "configuration will be correct.")
SITE_ACTIONS = {SITE_MOVE: "Create", SITE_RENAME: "Rename", SITE_RETAIN: "Retain"}


def generated_at(when: _dt.datetime) -> str:
    """`January _2 2006 15:04:05 MST`: full month, space-padded day, the zone's abbreviation."""
    when = when.astimezone(_dt.timezone.utc)
    return f"{when:%B} {when.day:>2} {when:%Y %H:%M:%S} UTC"


def filename(plan: MergePlan) -> str:
    return f"merge-report-{int(plan.created_time.timestamp())}.xlsx"


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def summary_rows(plan: MergePlan) -> list[list]:
    source, target = clinic_name(plan.source), clinic_name(plan.target)
    rows: list[list] = [["SUMMARY"], [], ["Report Generated", generated_at(plan.created_time)], [],
                        ["Merging from Workspace 1 (Source)", source], ["Merging to Workspace 2 (Target)", target]]
    if plan.blocked:
        rows.append(["Can execute merge plan?", "No", "No. " + "; ".join(plan.distinct_errors())])
    else:
        rows.append(["Can execute merge plan?", "Yes"])
    rows.append([])

    rows.append(["Settings ---", "Do they match? ---", f"{source} ---", f"{target} ---"])
    m = plan.membership
    rows.append(["Partial SSO*", _yes_no(m.matches), m.source_value, m.target_value])
    for s in plan.settings:
        rows.append([s.name, _yes_no(s.matches), s.source_value, s.target_value])
    rows += [[SSO_NOTE], []]

    resulting = [c for c in plan.clinicians if c.action != MERGE_INTO]
    admins = [c for c in resulting if ADMIN_ROLE in (c.resulting_roles or [])]
    members = [c for c in resulting if ADMIN_ROLE not in (c.resulting_roles or [])]
    conflicts = {DUPLICATE_ACCOUNTS: 0, LIKELY_DUPLICATES: 0, MRN_ONLY: 0, NAME_ONLY: 0}
    for p in plan.patients:
        if p.action != MERGE_INTO:
            for items in (p.conflicts or {}).values():
                for c in items:
                    conflicts[c.category] = conflicts.get(c.category, 0) + 1
    resulting_tags = sum(1 for t in plan.tags if t.action in (TAG_CREATE, TAG_RETAIN))
    rows += [
        ["Measures ---", "Count ---"],
        ["Resulting Members & Admins", len(resulting)],
        ["- Members downgraded from Admin", sum(1 for c in plan.clinicians if c.downgraded)],
        ["Resulting Tags", resulting_tags],
        ["- Duplicate tags that will be merged", sum(1 for t in plan.tags if t.action == TAG_SKIP)],
        ["Resulting Sites", len(plan.sites)],
        ["- Duplicate sites that will be renamed", sum(1 for s in plan.sites if s.action == SITE_RENAME)],
        ["Resulting Patient Accounts", sum(1 for p in plan.patients if p.action != MERGE_INTO)],
        ["- Duplicate Accounts", conflicts[DUPLICATE_ACCOUNTS]],
        ["- Likely Duplicate Accounts", conflicts[LIKELY_DUPLICATES]],
        ["- Duplicate MRN Only", conflicts[MRN_ONLY]],
        ["- Duplicate Name Only", conflicts[NAME_ONLY]],
        [],
    ]

    rows.append([f"Resulting Admins ({len(admins)})", "Workspace ---", "Email ---"])
    rows += [[_name(c), ", ".join(c.workspaces), _email(c)] for c in admins]
    rows += [[], [f"Resulting Members ({len(members)})", "Workspace ---", "Email ---",
                  "Downgrade (Only if the person is an Admin at Workspace 1 but a Member at Workspace 2) ----"]]
    rows += [[_name(c), ", ".join(c.workspaces), _email(c)] + (["Yes"] if c.downgraded else []) for c in members]
    rows.append([])

    invites: dict[str, int] = {}
    for c in plan.clinicians:
        if c.pending_invite:
            invites[c.workspaces[0]] = invites.get(c.workspaces[0], 0) + 1
    rows.append([f"Pending Invites ({sum(invites.values())})", "Workspace ---"])
    rows += [[count, workspace] for workspace, count in invites.items()]
    rows.append([])

    rows.append([f"Resulting Tags ({resulting_tags}) ---", "Workspace ---", "Merge ---"])
    rows += [[t.name, ", ".join(t.workspaces)] + (["Yes"] if t.merge else []) for t in plan.tags
             if t.action != TAG_SKIP]
    rows.append([])

    rows.append([f"Resulting Sites ({len(plan.sites)}) ---", "Workspace ---", "Action ---"])
    for s in sorted(plan.sites, key=lambda s: lower(s.display_name)):
        if s.action not in SITE_ACTIONS:
            raise InternalError(f"unhandled site action {s.display_name}: {s.action}")
        rows.append([s.display_name, s.workspace, SITE_ACTIONS[s.action]])
    rows.append([])
    return rows


def _name(plan) -> str:
    return plan.clinician.get("name") or ""


def _email(plan) -> str:
    return plan.clinician.get("email") or ""


def sheets(plan: MergePlan) -> list[tuple[str, list[list]]]:
    return [(SUMMARY, summary_rows(plan))] + patient_sheets.sheets(plan)


def _width(value) -> float:
    return len(str(value)) + 2 if value not in (None, "") else 0


def workbook_bytes(plan: MergePlan) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets(plan):
        sheet = book.create_sheet(title)
        widths: dict[int, float] = {}
        for row in rows:
            sheet.append(row)
            for col, value in enumerate(row, 1):
                widths[col] = max(widths.get(col, 0), _width(value))
        sheet.column_dimensions["A"].width = FIRST_COLUMN_WIDTH
        for col, width in widths.items():
            if col > 1 and width:
                sheet.column_dimensions[get_column_letter(col)].width = min(width, MAX_WIDTH)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
