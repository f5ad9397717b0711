"""Property-based fuzz of the whole API from its own OpenAPI document (schemathesis)."""
from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import HOST, TOKEN, make_capture
from server import security

HEADERS = {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers=HEADERS)


schema = schemathesis.pytest.from_fixture("api_schema")


# negative_data_rejection is left out: it counts a request as schema-violating when only the
# Authorization header that these tests always add was negated, a false alarm.
@schema.parametrize()
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case):
    # buffered: each response read whole and closed, as a server does (the feed is sent from a file)
    case.call_and_validate(headers=HEADERS, buffered=True, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance,
        response_schema_conformance])


def test_document_lists_every_api_route(app, client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, operations in document["paths"].items()
                  for method in operations}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        path = path.replace("{path:", "{").replace("{int:", "{")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in the OpenAPI document"


# Dates at and beyond the limits of Python's datetime (with every offset) and bodies nested up to
# hundreds of levels: the server answers 201 or a 400 naming the field, never a 500.
EXTREME_DATES = st.sampled_from(["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+14:00"]) | st.builds(
    lambda moment, offset: moment.isoformat() + offset,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["Z", "+14:00", "-12:00", "+00:00", ""]))
NESTED = st.recursive(st.none() | st.integers() | st.text(max_size=3),
                      lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
                      max_leaves=40)


@schema.include(path="/api/captures", method="POST").parametrize()
@schema.given(when=EXTREME_DATES, nested=NESTED, depth=st.integers(min_value=0, max_value=400))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_captures_survive_extreme_dates_and_nesting(case, client, store, when, nested, depth):
    if depth:  # the generated body, one field nested `depth` levels deep
        for _ in range(depth):
            nested = [nested]
        case.body = {**(case.body if isinstance(case.body, dict) else {}), "post": nested}
    else:  # a valid capture but for its dates: accepted ones must also print
        case.body = make_capture(posted_at=when)
        case.body["context"]["captured_at_client"] = when
    response = case.call(headers=HEADERS, buffered=True)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
    if response.status_code == 201:
        links = response.json()["links"]
        assert client.get(links["document"]).status_code == 200
        client.get(f"/login?key={security.new_login_key(store.data_dir)}")
        assert client.get(links["dashboard"]).status_code == 200
