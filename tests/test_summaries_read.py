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
