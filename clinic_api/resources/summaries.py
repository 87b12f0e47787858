"""patientSummary.v1 request bodies -> the stored summary parts, bound as the reference's Go
decoder binds them: BSON doubles for float fields (even when the JSON literal is an integer),
int32 for int fields, BSON dates for times, always-written fields zero-filled; a value of the
wrong type is the decoder's 400. (The store writes the parts: store/summaries.py.)
"""
from __future__ import annotations

from clinic_api import godecode, wire
from clinic_api.errors import BadRequest
from clinic_api.schema_rules import KIN_DATE_TIME

RANGES = ("AnyHigh", "AnyLow", "ExtremeHigh", "High", "Low", "Target", "VeryHigh", "VeryLow")
GO_TIME_LAYOUT = "2006-01-02T15:04:05Z07:00"


def _with_deltas(names) -> list[str]:
    return [n for name in names for n in (name, f"{name}Delta")]


class PeriodShape:
    """Which fields a period keeps, their types, and which are written even when not sent."""

    def __init__(self, *, always_float, always_float_or_null=(), always_int, has, optional_float, optional_int):
        self.always_float = set(always_float)
        self.always_float_or_null = set(always_float_or_null)
        self.always_int = set(always_int)
        self.has = set(has)
        self.optional_float = set(optional_float)
        self.optional_int = set(optional_int)
        self.ints = self.always_int | self.optional_int
        self.keys = sorted(self.always_float | self.always_float_or_null | self.always_int | self.has
                           | self.optional_float | self.optional_int)


CGM = PeriodShape(
    always_float=_with_deltas(["coefficientOfVariation", "max", "min", "standardDeviation"]),
    always_int=_with_deltas(["daysWithData", "hoursWithData"]),
    has=["hasAverageDailyRecords", "hasAverageGlucoseMmol", "hasGlucoseManagementIndicator",
         "hasTimeCGMUseMinutes", "hasTimeCGMUsePercent", "hasTimeCGMUseRecords", "hasTotalRecords"]
        + [f"hasTimeIn{r}{kind}" for r in RANGES for kind in ("Minutes", "Percent", "Records")],
    optional_float=_with_deltas(["averageDailyRecords", "averageGlucoseMmol", "glucoseManagementIndicator",
                                 "timeCGMUsePercent"] + [f"timeIn{r}Percent" for r in RANGES]),
    optional_int=_with_deltas(["timeCGMUseMinutes", "timeCGMUseRecords", "totalRecords"]
                              + [f"timeIn{r}{kind}" for r in RANGES for kind in ("Minutes", "Records")]),
)

BGM = PeriodShape(
    always_float=_with_deltas(["max", "min"]),
    always_float_or_null=_with_deltas(["coefficientOfVariation", "standardDeviation"]),
    always_int=_with_deltas(["daysWithData"]),
    has=["hasAverageDailyRecords", "hasAverageGlucoseMmol", "hasTotalRecords"]
        + [f"hasTimeIn{r}{kind}" for r in RANGES for kind in ("Percent", "Records")],
    optional_float=_with_deltas(["averageDailyRecords", "averageGlucoseMmol"] + [f"timeIn{r}Percent" for r in RANGES]),
    optional_int=_with_deltas(["totalRecords"] + [f"timeIn{r}Records" for r in RANGES]),
)

# The BGM period fields the reference's Go type holds as *float64 with omitempty: stored as null
# (sent as null), they are left out of responses (GetPatient, ListPatients), not sent as null.
BGM_OMITTED_WHEN_NULL = frozenset(BGM.always_float_or_null)


def bgm_periods_to_api(periods):
    """The stored BGM periods as the reference sends them."""
    if not isinstance(periods, dict):
        return periods
    return {name: {k: v for k, v in period.items() if not (v is None and k in BGM_OMITTED_WHEN_NULL)}
            if isinstance(period, dict) else period for name, period in periods.items()}


CONFIG_FLOATS = ("highGlucoseThreshold", "lowGlucoseThreshold", "veryHighGlucoseThreshold", "veryLowGlucoseThreshold")
DATE_FLAGS = ("hasFirstData", "hasLastData", "hasLastUploadDate", "hasOutdatedSince")
DATE_TIMES = ("firstData", "lastData", "lastUpdatedDate", "lastUploadDate", "outdatedSince", "outdatedSinceLimit")
DATE_LISTS = ("lastUpdatedReason", "outdatedReason")
DATES_ORDER = sorted(DATE_FLAGS + DATE_TIMES + DATE_LISTS)


# --- request body -> stored shape ------------------------------------------------------------

def _int(value, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(godecode.request_type_error("int", path, godecode.value_kind(value)))
    return value


def _float(value, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(godecode.request_type_error("float64", path, godecode.value_kind(value)))
    return float(value)


def _time(value, path: str, ref: str):
    if not isinstance(value, str) or not KIN_DATE_TIME.match(value):
        pointer = "/" + path.replace(".", "/")
        raise BadRequest(f'request body has an error: doesn\'t match schema {ref}: Error at "{pointer}": string '
                         f'doesn\'t match the format "date-time": string doesn\'t match pattern '
                         f'"{KIN_DATE_TIME.pattern}"')
    try:
        return wire.parse_time(value)
    except ValueError:
        raise BadRequest(f'parsing time "{value}" as "{GO_TIME_LAYOUT}": cannot parse "" as "Z07:00"') from None


def _period(shape: PeriodShape, body: dict, path: str) -> dict:
    out: dict = {}
    for key in shape.keys:
        value = body.get(key)
        where = f"{path}.{key}"
        if value is None:
            if key in shape.always_float:
                out[key] = 0.0
            elif key in shape.always_int:
                out[key] = 0
            elif key in shape.has:
                out[key] = False
            elif key in shape.always_float_or_null:
                out[key] = None
            continue
        if key in shape.has:
            out[key] = bool(value)
        elif key in shape.ints:
            out[key] = _int(value, where)
        else:
            out[key] = _float(value, where)
    return out


def _config(body: dict | None, path: str) -> dict:
    body = body or {}
    out: dict = {}
    for key in sorted(CONFIG_FLOATS + ("schemaVersion",)):
        value = body.get(key)
        if key == "schemaVersion":
            out[key] = _int(value, f"{path}.{key}") if value is not None else 0
        else:
            out[key] = _float(value, f"{path}.{key}") if value is not None else 0.0
    return out


def _dates(body: dict | None, path: str, ref: str) -> dict:
    body = body or {}
    out: dict = {}
    for key in DATES_ORDER:
        value = body.get(key)
        if key in DATE_FLAGS:
            out[key] = bool(value)
        elif value is None:
            continue
        elif key in DATE_TIMES:
            out[key] = _time(value, f"{path}.{key}", ref)
        elif value:
            out[key] = [str(v) for v in value]
    return out


def stats_from_api(kind: str, body: dict, ref: str) -> dict:
    """cgmStats / bgmStats as stored: {id, config, dates, periods?}."""
    shape = CGM if kind == "cgmStats" else BGM
    out = {"id": body.get("id") or "", "config": _config(body.get("config"), f"{kind}.config"),
           "dates": _dates(body.get("dates"), f"{kind}.dates", ref)}
    periods = body.get("periods") or {}
    if periods:
        out["periods"] = {name: _period(shape, period or {}, f"{kind}.periods.{name}")
                          for name, period in periods.items()}
    return out


def parts_from_api(body: dict, ref: str) -> dict:
    """The parts a request replaces: only those that carry an `id` key."""
    parts = {}
    for kind in ("cgmStats", "bgmStats"):
        part = body.get(kind)
        if isinstance(part, dict) and "id" in part:
            parts[kind] = stats_from_api(kind, part, ref)
    return parts
