"""Xealth test set-up: the integration configured against a local HTTP server playing Xealth
(OAuth token endpoint and read-order API), and our own request and order fixtures."""
from __future__ import annotations

import copy
import json

from ehr_support import XEALTH_TOKEN

DEPLOYMENT = "artificialhealthcare"
ORDER_ID = "7e316617-ef33-4859-b0c9-36bddbfe9229"
ACCESS_TOKEN = "xealth-access-token"
BEARER = {"Authorization": f"Bearer {XEALTH_TOKEN}"}
FULL_NAME = "FirstName First LastName Last"
IDENTITY = {"ids": [{"id": "e987655", "type": "enterprise", "origin": "epic"},
                    {"id": "10052608740", "type": "mrn", "origin": "epic"}],
            "historicalIds": [{"id": "E99999900", "type": "enterprise", "origin": "epic"}]}


class Xealth:
    """Calls as Xealth makes them (bearer token, JSON bodies)."""

    def __init__(self, api, server):
        self.api = api
        self.server = server

    def call(self, method, path, body, headers=None):
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = {**BEARER, "content-type": "application/json", **(headers or {})}
        return self.api.request(method, path, content=content, headers={k: v for k, v in hdrs.items() if v is not None})

    def preorder(self, body, **kw):
        return self.call("POST", "/v1/xealth/preorder", body, **kw)

    def notify(self, body, **kw):
        return self.call("POST", "/v1/xealth/notification", body, **kw)

    def programs(self, body, **kw):
        return self.call("PUT", "/v1/xealth/programs", body, **kw)

    def program_url(self, body, **kw):
        return self.call("PUT", "/v1/xealth/program", body, **kw)

    def serve_order(self, order: dict, order_id: str = ORDER_ID):
        self.server.expect_request(f"/v2/partner/read/order/{DEPLOYMENT}/{order_id}", method="GET",
                                   headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}).respond_with_json(order)


def demographics(dob="1985-01-11", email=None) -> dict:
    demo = {"name": {"use": "usual", "given": ["FirstName", "First"], "family": ["LastName", "Last"]},
            "birthDate": dob, "gender": "female"}
    if email:
        demo["telecom"] = [{"system": "phone", "value": "+15555550100"}, {"system": "email", "value": email}]
    return demo


def datasets(dob="1985-01-11", email=None, ehr_user="User_98768") -> dict:
    out = {"demographicsV1": demographics(dob, email)}
    if ehr_user:
        out["ehrUserV1"] = {"userId": ehr_user, "systemLogin": "jdoe"}
    return out


def identity(mrn="e987655") -> dict:
    ident = copy.deepcopy(IDENTITY)
    ident["ids"][0]["id"] = mrn
    return ident


def preorder(context="initial", dob="1985-01-11", mrn="e987655", email=None, **extra) -> dict:
    body = {"eventType": "preorder", "eventContext": context, "deployment": DEPLOYMENT, "programId": "100",
            "patientIdentity": identity(mrn), "datasets": datasets(dob, email)}
    body.update(extra)
    return body


def subsequent(tracking_id: str, user_input: dict | None, **kw) -> dict:
    form = {"dataTrackingId": tracking_id}
    if user_input is not None:
        form["userInput"] = user_input
    return preorder("subsequent", formData=form, **kw)


def notification(context="new", order_id=ORDER_ID, program="100", **extra) -> dict:
    body = {"eventId": "event-1", "eventTimeStamp": "2021-01-14T00:23:47.580Z", "eventType": "order",
            "eventContext": context, "orderId": order_id, "deployment": DEPLOYMENT, "programId": program,
            "partnerId": "tidepool", "patientIdentity": identity()}
    body.update(extra)
    return body


def order(tracking_id: str | None, dob="1985-01-11", mrn="e987655", state="ordered", order_id=ORDER_ID) -> dict:
    body = {"patientIdentity": identity(mrn),
            "orderInfo": {"deployment": DEPLOYMENT, "orderId": order_id, "orderState": state, "programId": "100",
                          "partnerId": "tidepool", "programTitle": "Tidepool"},
            "datasets": {"demographicsV1": demographics(dob)}}
    if tracking_id is not None:
        body["preorder"] = {"dataTrackingId": tracking_id}
    return body


def programs_request(mrn="e987655", ehr_user="User_98768", **extra) -> dict:
    body = {"eventType": "getPrograms", "eventContext": "initial", "deployment": DEPLOYMENT, "ehrView": "encounter",
            "patientIdentity": identity(mrn), "datasets": datasets(ehr_user=ehr_user)}
    body.update(extra)
    return body


def program_url_request(**extra) -> dict:
    body = {**programs_request(), "eventType": "getProgramUrl", "programId": "100"}
    body.update(extra)
    return body


def enroll(xealth, email="xealth@tidepool.org", connect=True, tags=None) -> str:
    """Initial and subsequent preorder, then the new-order notification: an enrolled patient."""
    tracking = xealth.preorder(preorder()).json()["dataTrackingId"]
    user_input = {"patient": {"email": email, "connectAbbott": connect, "connectDexcom": connect}}
    if tags is not None:
        user_input["tags"] = {"ids": tags}
    assert xealth.preorder(subsequent(tracking, user_input)).content == b"{}\n"
    xealth.serve_order(order(tracking))
    resp = xealth.notify(notification())
    assert resp.status_code == 200, resp.text
    return tracking
