"""Schemathesis reads /api/openapi.json and throws generated requests at the API:
no server error, and every answer matches the published description."""
import pathlib
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings

from conftest import add_actor, build_app

APP = build_app(pathlib.Path(tempfile.mkdtemp(prefix="openapi-")))
add_actor(APP, name="Fuzz Visible", countries="ML", domains="eau", activities="projets")
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_description(case):
    case.call_and_validate()


def test_text_parameters_say_nul_bytes_are_refused():
    import re
    client = APP.test_client()
    document = client.get("/api/openapi.json").get_json()
    texts = [p for path in ("/api/actors", "/api/suggest") for p in document["paths"][path]["get"]["parameters"]
             if p["name"] in ("q", "name", "place", "intervention")]
    assert len(texts) == 5
    for parameter in texts:
        assert re.fullmatch(parameter["schema"]["pattern"], "Mali Kayes")
        assert not re.fullmatch(parameter["schema"]["pattern"], "Ma\x00li")
    refused = client.get("/api/actors", query_string={"q": "Ma\x00li"})
    assert refused.status_code == 400 and "nul" in refused.get_json()["error"]


def test_empty_form_values_the_api_ignores_are_declared_so():
    """`?country=&since=` (empty form fields) answer as if absent: the description says those parameters
    allow an empty value, so that a client (or a fuzzer) reads that as valid."""
    client = APP.test_client()
    document = client.get("/api/openapi.json").get_json()
    declared = {p["name"] for p in document["paths"]["/api/partnerships"]["get"]["parameters"]
                if p.get("allowEmptyValue")}
    assert {"country", "since", "until", "kind", "department"} <= declared
    assert client.get("/api/partnerships?country=&since=").get_json() == client.get("/api/partnerships").get_json()
