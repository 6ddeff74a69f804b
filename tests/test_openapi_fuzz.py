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
