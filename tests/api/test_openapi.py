"""The OpenAPI document is a contract: snapshotted, and covering every route served.

When a change to the API is intended, regenerate the snapshot and commit it with
the change, so the diff shows reviewers exactly how the contract moved:

    FRONTDESK_UPDATE_API_SNAPSHOT=1 .venv/bin/pytest tests/api/test_openapi.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from frontdesk.core.api_support import PROBLEM_CONTENT_TYPE

SNAPSHOT = Path(__file__).with_name("openapi_snapshot.json")
UPDATE_VARIABLE = "FRONTDESK_UPDATE_API_SNAPSHOT"
PREFIX = "/api/v1/"
# Served under the prefix but not API operations: the schema itself, its docs page,
# ninja's root (used only to reverse paths) and the problem+json catch-all.
NOT_OPERATIONS = frozenset({"openapi-json", "openapi-view", "api-root", "unknown-route"})
METHODS = ("get", "post", "put", "patch", "delete")


def _schema() -> dict[str, Any]:
    response = Client().get(f"{PREFIX}openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = json.loads(response.content)
    return schema


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _api_patterns() -> list[URLPattern]:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == PREFIX.lstrip("/"):
            return [p for p in entry.url_patterns if isinstance(p, URLPattern)]
    raise AssertionError(f"no URL resolver mounted at {PREFIX}")


def test_openapi_schema_matches_the_snapshot(db: None) -> None:
    current = _dump(_schema())
    if os.environ.get(UPDATE_VARIABLE) == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
        pytest.skip(f"snapshot rewritten: {SNAPSHOT.name}")
    stored = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    assert current == stored, (
        "The OpenAPI schema differs from tests/api/openapi_snapshot.json. If the API change "
        f"is intended, run `{UPDATE_VARIABLE}=1 .venv/bin/pytest tests/api/test_openapi.py` "
        "and commit the updated snapshot with the change."
    )


def test_every_route_and_method_served_is_documented(db: None) -> None:
    paths = _schema()["paths"]
    client = Client()
    # ninja adds one URL pattern per operation; several share a route.
    routes = {str(p.pattern) for p in _api_patterns() if p.name not in NOT_OPERATIONS}
    served_paths = set()
    for route in sorted(routes):
        documented_path = PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        served_paths.add(documented_path)
        assert documented_path in paths, f"{documented_path} is served but not documented"
        concrete = PREFIX + re.sub(r"<(?:\w+:)?\w+>", "1", route)
        for method in METHODS:
            served = getattr(client, method)(concrete).status_code != 405
            documented = method in paths[documented_path]
            assert served == documented, (
                f"{method.upper()} {documented_path}: served={served}, documented={documented}"
            )
    assert served_paths == set(paths)


def test_every_operation_documents_its_problem_response(db: None) -> None:
    schema = _schema()
    assert "Problem" in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            content = operation["responses"]["default"]["content"]
            assert PROBLEM_CONTENT_TYPE in content, f"{method} {path}"


def test_operations_are_secured_by_token_or_session(db: None) -> None:
    schema = _schema()
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    for item in schema["paths"].values():
        for operation in item.values():
            assert len(operation["security"]) == 2


def test_docs_page_is_served(db: None) -> None:
    response = Client().get(f"{PREFIX}docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
