"""Bad input gets a 4xx with a clear message, never a 5xx, and nothing is stored twice;
schemathesis explores the published OpenAPI (bounded) and finds no 5xx."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.storage.recorder import decision_payload

pytestmark = pytest.mark.postgres


def _item(decided, device: str, index: int = 1) -> dict:  # type: ignore[no-untyped-def]
    return decision_payload(decided(index, device))


def test_oversized_body_is_413(device_client) -> None:  # type: ignore[no-untyped-def]
    answer = device_client.post(
        "/v1/kiosk/decisions",
        content=b"{" + b" " * (5 * 1024 * 1024 + 10) + b"}",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert "larger than" in answer.json()["detail"]


def test_malformed_json_is_422(device_client) -> None:  # type: ignore[no-untyped-def]
    answer = device_client.post(
        "/v1/kiosk/decisions", content=b'{"items": [', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert "json" in str(answer.json()["detail"]).lower()


def test_wrong_types_and_unknown_fields_are_422_naming_the_field(
    device_client, server_setup, decided
) -> None:  # type: ignore[no-untyped-def]
    item = _item(decided, server_setup.device)
    item["decision"] = 7
    item["surprise"] = True
    answer = device_client.post("/v1/kiosk/decisions", json={"items": [item]})
    assert answer.status_code == 422
    locations = [tuple(error["loc"]) for error in answer.json()["detail"]]
    assert ("body", "items", 0, "decision") in locations
    assert ("body", "items", 0, "surprise") in locations


def test_nul_characters_and_nan_are_refused(device_client, server_setup, decided) -> None:  # type: ignore[no-untyped-def]
    item = _item(decided, server_setup.device)
    item["policy"] = "ca\x00ricom"
    answer = device_client.post("/v1/kiosk/decisions", json={"items": [item]})
    assert answer.status_code == 422
    item = _item(decided, server_setup.device)
    body = json.dumps({"items": [item]}).replace('"chip": 800.0', '"chip": NaN').encode()
    assert b"NaN" in body
    assert (
        device_client.post(
            "/v1/kiosk/decisions", content=body, headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


def test_clock_skew_is_refused_with_a_message(device_client, server_setup, decided) -> None:  # type: ignore[no-untyped-def]
    item = _item(decided, server_setup.device)
    future = datetime.now(UTC) + timedelta(hours=2)
    item["started_at"] = (future - timedelta(seconds=5)).isoformat()
    item["decided_at"] = future.isoformat()
    answer = device_client.post("/v1/kiosk/decisions", json={"items": [item]})
    assert answer.status_code == 422
    assert "in the future" in answer.json()["detail"]


def test_a_kiosk_cannot_send_another_kiosks_items(device_client, decided) -> None:  # type: ignore[no-untyped-def]
    answer = device_client.post(
        "/v1/kiosk/decisions", json={"items": [_item(decided, "someone-else")]}
    )
    assert answer.status_code == 403


def test_a_batch_repeating_an_item_stores_it_once(device_client, server_setup, decided) -> None:  # type: ignore[no-untyped-def]
    item = _item(decided, server_setup.device, 42)
    answer = device_client.post("/v1/kiosk/decisions", json={"items": [item, item]})
    assert answer.status_code == 200
    outcomes = [result["outcome"] for result in answer.json()["items"]]
    assert outcomes == ["accepted", "duplicate"]


def test_schemathesis_finds_no_server_error(
    server_setup, asgi_app, people_client, token_headers
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the published OpenAPI and callers with the right credentials for each part
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )

    from server.security.tokens import Role

    pem = (server_setup.credentials / "kiosk.pem").read_text()

    async def app_with_device(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"].startswith("/v1/kiosk/"):
            scope["extensions"] = {"tls": {"client_cert_chain": [pem]}}
        await asgi_app(scope, receive, send)

    tokens = {
        "/v1/referrals": token_headers(people_client, server_setup.user(Role.OFFICER)),
        "/v1/lanes": token_headers(people_client, server_setup.user(Role.OFFICER)),
        "/v1/reports": token_headers(people_client, server_setup.user(Role.SUPERVISOR)),
        "/v1/audit": token_headers(people_client, server_setup.user(Role.SUPERVISOR)),
        "/v1/devices": token_headers(people_client, server_setup.user(Role.TECHNICIAN)),
        "/v1/admin": token_headers(people_client, server_setup.user(Role.ADMINISTRATOR)),
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", app_with_device)
    failures: list[str] = []
    # the two long-lived answers (the wall's event stream, the kiosk's long poll for remote
    # actions) do not end within a case; tests/control_room drives them for real
    long_lived = {"/v1/lanes/stream", "/v1/kiosk/commands"}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in long_lived:
            continue
        headers = next((h for prefix, h in tokens.items() if operation.path.startswith(prefix)), {})

        @settings(
            max_examples=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)  # noqa: B023 (check() runs in this iteration)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path}: {response.status_code}")
            case.validate_response(
                response,
                checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
            )

        check()
    assert not failures
