"""Schema-generated requests against every built operation: zero server errors, every response
conforming to our own clinic.v1.yaml (status code, content type, body schema). Bounded so the
whole run stays quick; the hypothesis database is off so runs are reproducible."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis import checks

from clinic_api import spec
from clinic_api.resolver import find_handler
from conftest import CLINIC_BODY, token_for

SCHEMA = schemathesis.openapi.from_path(str(spec.SPEC_PATH))
BUILT = sorted(op for op in spec.operations() if find_handler(op) is not None)
EXAMPLES = 12
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


@pytest.mark.parametrize("operation_id", BUILT)
def test_schema_generated_requests(operation_id, client, db):
    operation = SCHEMA.find_operation_by_id(operation_id)
    admin_token = token_for("1234567890", email="fuzz@example.com")
    created = client.post("/v1/clinics", json=CLINIC_BODY, headers={"x-tidepool-session-token": admin_token})
    assert created.status_code == 200
    clinic_id = created.json()["id"]
    tokens = [token_for("server", server=True), admin_token]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), real_clinic=st.booleans(), who=st.sampled_from(tokens))
    def run(case, real_clinic, who):
        if real_clinic and "clinicId" in (case.path_parameters or {}):
            case.path_parameters["clinicId"] = clinic_id
        kwargs = case.as_transport_kwargs()
        headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "x-tidepool-session-token"}
        headers["x-tidepool-session-token"] = who
        response = client.request(kwargs["method"], case.formatted_path, params=kwargs.get("params"),
                                  headers=headers, content=_content(kwargs))
        case.validate_response(response, checks=CHECKS)

    run()


def _content(kwargs):
    if kwargs.get("json") is not None:
        import json
        return json.dumps(kwargs["json"]).encode()
    data = kwargs.get("data") if kwargs.get("data") is not None else kwargs.get("content")
    if isinstance(data, str):
        return data.encode()
    return data
