"""A summary written through UpdatePatientSummary reads back through GetPatient and ListPatients,
in the contract's shape (response validation is on) with the reference's time format."""
from test_summaries import USER, bgm, cgm, summary_url
from patient_docs import insert_patient


def test_summary_reads_back_through_the_patient_endpoints(server, admin, db, clinic):
    insert_patient(db, clinic["id"], USER)
    resp = server.post(summary_url(), json={"cgmStats": cgm(), "bgmStats": bgm()})
    assert resp.status_code == 200, resp.text
    patient = admin.get(f"/v1/clinics/{clinic['id']}/patients/{USER}")
    assert patient.status_code == 200, patient.text
    summary = patient.json()["summary"]
    assert summary["cgmStats"]["dates"]["lastData"] == "2024-01-17T05:38:22.958Z"
    assert summary["cgmStats"]["periods"]["14d"]["timeInTargetPercent"] == 0.75
    assert summary["bgmStats"]["periods"]["7d"]["totalRecords"] == 3
    listed = admin.get(f"/v1/clinics/{clinic['id']}/patients?sort=-timeInTargetPercent&sortType=cgm&period=14d")
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"][0]["summary"]["cgmStats"]["id"] == "abc123"


NULLABLE_BGM = ("coefficientOfVariation", "coefficientOfVariationDelta", "standardDeviation", "standardDeviationDelta")


def test_bgm_deviation_stored_null_is_left_out(server, admin, db, clinic):
    """A BGM period's standardDeviation/coefficientOfVariation (and deltas) not sent are stored as
    null; the reference's *float64 omitempty fields leave them out of GetPatient and ListPatients."""
    insert_patient(db, clinic["id"], USER)
    period = {"7d": {**bgm()["periods"]["7d"], "standardDeviation": 1.5}}
    assert server.post(summary_url(), json={"bgmStats": bgm(periods=period)}).status_code == 200
    stored = db.patients.find_one({"userId": USER})["summary"]["bgmStats"]["periods"]["7d"]
    assert {k: stored[k] for k in NULLABLE_BGM} == {"coefficientOfVariation": None, "coefficientOfVariationDelta": None,
                                                    "standardDeviation": 1.5, "standardDeviationDelta": None}
    got = admin.get(f"/v1/clinics/{clinic['id']}/patients/{USER}").json()["summary"]["bgmStats"]["periods"]["7d"]
    listed = admin.get(f"/v1/clinics/{clinic['id']}/patients").json()["data"][0]["summary"]["bgmStats"]["periods"]
    for sent in (got, listed["7d"]):
        assert {k: sent[k] for k in NULLABLE_BGM if k in sent} == {"standardDeviation": 1.5}
        assert sent["min"] == 1 and sent["totalRecords"] == 3
