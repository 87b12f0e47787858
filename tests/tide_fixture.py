"""The reference's 14-patient TIDE fixture, rebuilt: one clinic, 14d values, tag A requested,
cutoff 2025-07-01T00:00:00Z."""
import datetime as dt

from bson import ObjectId

from patient_docs import insert_patient, user_id

A, E, B, C, X = (ObjectId(h) for h in ("a" * 24, "ef" * 12, "a" * 23 + "b", "a" * 23 + "c", "e" * 24))
CUTOFF = "2025-07-01T00:00:00Z"
FIELDS = ("timeInVeryLowPercent", "timeInAnyLowPercent", "timeInVeryHighPercent", "timeInAnyHighPercent",
          "timeInExtremeHighPercent", "timeInTargetPercent", "timeInTargetPercentDelta", "timeCGMUsePercent")


def t(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=dt.timezone.utc) \
        if "T" in text else dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)


# number, fullName, tags, lastData, dexcom state, values in FIELDS order (None: no period)
ROWS = [
    (1, "Meeting Targets", [E, A], "2025-07-31T11:54:00.359Z", None, (0, .0139, 0, 0, 0, .9861, 0, .75)),
    (2, "Time below 3.0 mmol/L", [E, A], "2025-07-31T10:24:00.359Z", "connected", (.0505, 1, 0, 0, 0, 0, 0, .6875)),
    (3, "CGM Wear Time <70%", [A], "2025-07-30T09:09:39.959Z", "connected", (0, .0101, 0, 0, 0, .9798, 0, .6875)),
    (4, "Person IV Shouldnt Match", [E], "2025-06-17", None, (.02, .05, 0, 0, 0, .5, 0, .5)),
    (5, "Some Person Shouldnt Match", [E], None, None, None),
    (6, "Part of category 'noData' because out of time cutoff.", [A, B, C], "2025-06-25T16:04:07.079Z", "connected",
     (0, .0139, 0, 0, 0, .9561, 0, .75)),
    (7, "Wont be in TIDE report because tags don't match", [X], "2025-07-09", "connected", (.02, .05, 0, 0, 0, .5, 0,
                                                                                            .5)),
    (8, "Disconnected User", [A], "2025-07-07T16:38:39.206Z", "disconnected",
     (.0075, .0217, 0, .0020, 0, .9763, .0229, .9943)),
    (9, "Meeting Targets II", [A], "2025-07-07T16:28:39.66Z", "connected",
     (.0048, .0117, .0199, .0892, .0089, .8991, .0085, .9735)),
    (10, "Time below 3.9 mmol/L > 4%", [A], "2025-07-03T14:49:07.079Z", None, (0, .0547, 0, 0, 0, .9453, 0, .6979)),
    (11, "Time below 3.9 mmol/L > 4% but not match tags", [], "2024-04-25", None, (0, .0547, 0, 0, 0, .9453, 0, .6979)),
    (12, "High Glucose Person", [A], "2025-08-13T16:12:15Z", "connected",
     (.0003, .0074, .1292, .3816, .0097, .7110, .0128, .9730)),
    (13, "Extreme High", [A], "2025-07-08T18:15:42.591Z", "connected",
     (.0044, .0326, .1410, .3435, .0206, .7140, -.0884, .9849)),
    (14, "High Glucose", [A], "2025-07-05T23:55:00Z", None, (0, 0, .0208, .6181, 0, .3819, 0, 1)),
]
NAMES = {row[0]: row[1] for row in ROWS}


def period_values(row) -> dict:
    values = dict(zip(FIELDS, row[5], strict=False))
    values.update({"averageGlucoseMmol": 5.5 + row[0] / 10, "timeCGMUseMinutes": 1000 + row[0],
                   "timeInLowPercent": 0.001 * row[0], "timeInHighPercent": 0.002 * row[0]})
    if row[0] in (12, 13):
        values["glucoseManagementIndicator"] = 7.1
    return values


def insert_fixture(db, clinic_id) -> dict:
    """Insert the 14 patients; returns {number: document}."""
    out = {}
    for row in ROWS:
        number, name, tags, last_data, dexcom, values = row
        fields = {"fullName": name, "tags": list(tags)}
        if dexcom:
            fields["dataSources"] = [{"providerName": "dexcom", "state": dexcom}]
        if last_data is not None:
            fields["summary"] = {"cgmStats": {"id": f"{number:x}", "dates": {"hasLastData": True,
                                                                             "lastData": t(last_data)},
                                              "periods": {"14d": period_values(row)} if values else {}}}
        out[number] = insert_patient(db, clinic_id, user_id(number), **fields)
    return out
