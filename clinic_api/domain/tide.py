"""The TIDE report: a clinic's tagged patients sorted into glycemic categories by their CGM
summary for one period, most urgent first.

Each requested category, in priority order, takes up to the remaining budget (100 patients in
all) of the patients whose `summary.cgmStats.dates.lastData` is at or after the cutoff, who carry
every requested tag, match the category's thresholds and were not placed in an earlier category.
A category reached after the budget is spent gets no key. Then, unless excluded, `noData` lists
up to 50 patients whose data is missing, or older than 8 hours and either older than the cutoff or
from a Dexcom connection that is not connected (a patient may be in a category and in noData).
Inside a category patients are sorted by the category's value, then by document id.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import TYPE_CHECKING

from clinic_api.store import patient_queries
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from clinic_api.services import Services

PATIENT_LIMIT = 100
NO_DATA_LIMIT = 50
NO_DATA = "noData"
FRESH_DATA = _dt.timedelta(hours=8)
LAST_DATA = "summary.cgmStats.dates.lastData"

# name -> (filters on the period's fields, sort field, sort direction)
CATEGORIES: dict[str, tuple[dict, str, int]] = {
    "timeInVeryLowPercent": ({"timeInVeryLowPercent": {"$gt": 0.01}}, "timeInVeryLowPercent", -1),
    "timeInAnyLowPercent": ({"timeInAnyLowPercent": {"$gt": 0.04}}, "timeInAnyLowPercent", -1),
    "timeInExtremeHighPercent": ({"timeInExtremeHighPercent": {"$gte": 0.01}}, "timeInExtremeHighPercent", -1),
    "timeInVeryHighPercent": ({"timeInVeryHighPercent": {"$gt": 0.05}}, "timeInVeryHighPercent", -1),
    "timeInAnyHighPercent": ({"timeInAnyHighPercent": {"$gt": 0.25}}, "timeInAnyHighPercent", -1),
    "dropInTimeInTargetPercent": ({"timeInTargetPercentDelta": {"$lt": -0.15}}, "timeInTargetPercentDelta", 1),
    "timeInTargetPercent": ({"timeInTargetPercent": {"$lt": 0.7}}, "timeInTargetPercent", 1),
    "timeCGMUsePercent": ({"timeCGMUsePercent": {"$lt": 0.7}}, "timeCGMUsePercent", 1),
    "meetingTargets": ({
        "timeInTargetPercent": {"$gte": 0.7},
        "timeCGMUsePercent": {"$gte": 0.7},
        "timeInAnyLowPercent": {"$not": {"$gt": 0.04}},
        "timeInVeryLowPercent": {"$not": {"$gt": 0.01}},
        "timeInAnyHighPercent": {"$not": {"$gt": 0.25}},
        "timeInVeryHighPercent": {"$not": {"$gt": 0.05}},
        "timeInExtremeHighPercent": {"$not": {"$gte": 0.01}},
    }, "timeInTargetPercent", -1),
}
REQUESTABLE = tuple(CATEGORIES)
DEFAULT_CATEGORIES = ("timeInVeryLowPercent", "timeInAnyLowPercent", "timeInVeryHighPercent", "timeInAnyHighPercent",
                      "dropInTimeInTargetPercent", "timeCGMUsePercent", "meetingTargets")

@dataclasses.dataclass
class Report:
    """What the response shows: no count of the candidates (the reference counts each category's
    matches, one more command per category, and never shows the sum)."""
    results: dict  # category -> [patient documents], in report order
    selected: int = 0  # patients placed in the results (noData included)


def ordered_categories(requested) -> list[str]:
    """The requested categories in priority order without repeats, or the default list."""
    if requested is None:
        return list(DEFAULT_CATEGORIES)
    out: list[str] = []
    for name in requested:
        if name not in out:
            out.append(name)
    return out


def _base(clinic_id, tag_ids) -> dict:
    return {"clinicId": object_id(clinic_id), "tags": {"$all": [object_id(t) for t in tag_ids]}}


def category_selector(clinic_id, tag_ids, period: str, cutoff, name: str, exclusions=()) -> dict:
    filters, _, _ = CATEGORIES[name]
    prefix = f"summary.cgmStats.periods.{period}."
    selector = {"_id": {"$nin": list(exclusions)}, **_base(clinic_id, tag_ids), LAST_DATA: {"$gte": cutoff}}
    selector.update({prefix + field: cond for field, cond in filters.items()})
    return selector


def category_sort(period: str, name: str) -> list[tuple[str, int]]:
    """The category's value in its direction, then the document id."""
    _, field, direction = CATEGORIES[name]
    return [(f"summary.cgmStats.periods.{period}.{field}", direction), ("_id", 1)]


NO_DATA_SORT = [(LAST_DATA, 1), ("_id", 1)]


def no_data_selector(clinic_id, tag_ids, cutoff, now) -> dict:
    stale = {"$and": [{LAST_DATA: {"$lt": now - FRESH_DATA}},
                      {"$or": [{LAST_DATA: {"$lt": cutoff}},
                               {"dataSources": {"$elemMatch": {"providerName": "dexcom",
                                                               "state": {"$ne": "connected"}}}}]}]}
    return {**_base(clinic_id, tag_ids), "$or": [{LAST_DATA: None}, stale]}


def build(svc: Services, clinic_id, *, period: str, tag_ids, cutoff, categories=None, exclude_no_data=False,
          now: _dt.datetime | None = None) -> Report:
    """TideReport: one query per reached category and one for noData (`now`: the services' clock)."""
    db = svc.store.db
    now = now or svc.clock()
    report = Report(results={})
    remaining = PATIENT_LIMIT
    exclusions: list = []
    for name in ordered_categories(categories):
        selector = category_selector(clinic_id, tag_ids, period, cutoff, name, exclusions)
        found = patient_queries.first(db, selector, category_sort(period, name), remaining)
        report.results[name] = found
        exclusions.extend(doc["_id"] for doc in found)
        report.selected += len(found)
        remaining -= len(found)
        if remaining < 1:
            break
    if not exclude_no_data:
        selector = no_data_selector(clinic_id, tag_ids, cutoff, now)
        found = patient_queries.first(db, selector, NO_DATA_SORT, NO_DATA_LIMIT)
        report.results[NO_DATA] = found
        report.selected += len(found)
    return report
