"""Schema-generated requests against every built operation: zero server errors, every response
conforming to our own clinic.v1.yaml (status code, content type, body schema).

Besides schemathesis's own cases, a share of the JSON bodies is rewritten the way Go-facing clients
break them (issue 12): a string given a lone surrogate escape (`"\\ud800"`) or invalid UTF-8, a
number made huge (`1e29`, `99999999999999999999`, `1e400`), the body cut short or followed by extra
bytes, and a query value given an invalid percent-escape.

The default run is quick and reproducible (fixed derandomized examples, no hypothesis database).
`make fuzz` runs longer with a fresh seed: CLINIC_FUZZ_SEED (a number) and CLINIC_FUZZ_EXAMPLES
(examples per operation) are read here, and a failure names the seed that reproduces it."""
import json
import os
import random
import urllib.parse
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings, strategies as st
from schemathesis import checks

from clinic_api import spec
from clinic_api.resolver import find_handler
from conftest import CLINIC_BODY, token_for
from support import stores

SCHEMA = schemathesis.openapi.from_path(str(spec.SPEC_PATH))
BUILT = sorted(op for op in spec.operations() if find_handler(op) is not None)
# More examples in memory than on the wire, where each request costs a database round trip or more:
# both passes stay under a minute.
EXAMPLES = int(os.environ.get("CLINIC_FUZZ_EXAMPLES") or (12 if stores.on_wire() else 20))
SEED = os.environ.get("CLINIC_FUZZ_SEED") or ""
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
# A broken body may store what the contract's formats forbid (a hostname with U+FFFD: the reference,
# like us, does not check that format on the way in): its answer is checked without the body schema.
MUTATED_CHECKS = CHECKS[:3]

# How a JSON body is broken (None: left as generated); picked by hypothesis, so shrinking works.
MUTATIONS = [None, None, "surrogate", "surrogate_pair_half", "bad_utf8", "huge_exponent", "huge_integer",
             "beyond_float", "truncated", "trailing", "query_escape"]
_STRING_MARK = "\u0001fuzz-string\u0001"
_NUMBER_MARK = 7.0000123456789e-300


def _marked(value, rng: random.Random, kind: str):
    """The body with one string (or number) replaced by a mark, or None when it has none."""
    spots = []

    def walk(node, setter):
        if isinstance(node, dict):
            for key in list(node):
                walk(node[key], lambda v, k=key, n=node: n.__setitem__(k, v))
        elif isinstance(node, list):
            for i in range(len(node)):
                walk(node[i], lambda v, i=i, n=node: n.__setitem__(i, v))
        elif kind == "string" and isinstance(node, str):
            spots.append(setter)
        elif kind == "number" and isinstance(node, (int, float)) and not isinstance(node, bool):
            spots.append(setter)

    holder = [value]
    walk(value, lambda v: holder.__setitem__(0, v))
    if not spots:
        return None
    rng.choice(spots)(_STRING_MARK if kind == "string" else _NUMBER_MARK)
    return holder[0]


def mutate(body, mutation: str | None, rng: random.Random) -> bytes | None:
    """The raw body for a JSON `body` (None: no body) under `mutation`."""
    if body is None:
        return None
    if mutation in ("surrogate", "surrogate_pair_half", "bad_utf8"):
        marked = _marked(json.loads(json.dumps(body)), rng, "string")
        if marked is not None:
            text = json.dumps(marked)
            mark = json.dumps(_STRING_MARK)[1:-1]
            if mutation == "bad_utf8":
                return text.replace(mark, "a").encode().replace(b'"a"', b'"a\xff\xe2\x82"', 1)
            piece = "\\ud800" if mutation == "surrogate" else "\\ud83d\\ude00\\udc01"
            return text.replace(mark, piece).encode()
    if mutation in ("huge_exponent", "huge_integer", "beyond_float"):
        marked = _marked(json.loads(json.dumps(body)), rng, "number")
        if marked is not None:
            piece = {"huge_exponent": "1e29", "huge_integer": "99999999999999999999", "beyond_float": "-1e400"}
            return json.dumps(marked).replace(repr(_NUMBER_MARK), piece[mutation]).encode()
    raw = json.dumps(body).encode()
    if mutation == "truncated" and len(raw) > 1:
        return raw[: rng.randrange(1, len(raw))]
    if mutation == "trailing":
        return raw + b' {"extra": tru'
    return raw


@pytest.mark.parametrize("operation_id", BUILT)
def test_schema_generated_requests(operation_id, client, db):
    operation = SCHEMA.find_operation_by_id(operation_id)
    admin_token = token_for("1234567890", email="fuzz@example.com")
    created = client.post("/v1/clinics", json=CLINIC_BODY, headers={"x-tidepool-session-token": admin_token})
    assert created.status_code == 200
    clinic_id = created.json()["id"]
    tokens = [token_for("server", server=True), admin_token]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not SEED,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), real_clinic=st.booleans(), who=st.sampled_from(tokens),
           mutation=st.sampled_from(MUTATIONS), rng=st.randoms(use_true_random=False))
    def run(case, real_clinic, who, mutation, rng):
        if real_clinic and "clinicId" in (case.path_parameters or {}):
            case.path_parameters["clinicId"] = clinic_id
        kwargs = case.as_transport_kwargs()
        headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "x-tidepool-session-token"}
        headers["x-tidepool-session-token"] = who
        params, url = kwargs.get("params"), case.formatted_path
        if mutation == "query_escape" and isinstance(params, dict) and params:
            # One value given an invalid percent-escape, sent raw (Go drops that pair).
            broken = rng.choice(sorted(params))
            kept = {k: v for k, v in params.items() if k != broken}
            url = f"{url}?{urllib.parse.urlencode(kept, doseq=True)}&{urllib.parse.quote(broken)}=%ZZ"
            params = None
        content = mutate(kwargs["json"], mutation, rng) if kwargs.get("json") is not None else _content(kwargs)
        response = client.request(kwargs["method"], url, params=params, headers=headers, content=content)
        case.validate_response(response, checks=CHECKS if mutation is None else MUTATED_CHECKS)

    if SEED:
        run = seed(int(SEED) ^ zlib.crc32(operation_id.encode()))(run)
    try:
        run()
    except BaseException as exc:
        if SEED:
            raise AssertionError(f"{operation_id} failed with CLINIC_FUZZ_SEED={SEED} "
                                 f"CLINIC_FUZZ_EXAMPLES={EXAMPLES}: {exc}") from exc
        raise


def _content(kwargs):
    data = kwargs.get("data") if kwargs.get("data") is not None else kwargs.get("content")
    if isinstance(data, str):
        return data.encode()
    return data
