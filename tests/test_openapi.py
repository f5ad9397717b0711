"""Property-based fuzz of the whole API from its own OpenAPI document (schemathesis)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import HOST, TOKEN

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
    case.call_and_validate(headers=HEADERS, checks=[
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
