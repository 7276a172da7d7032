"""Identity and access: every endpoint refuses a caller without a valid device certificate
or token; revoked devices and wrong roles are refused; mutual TLS works on real uvicorn."""

from __future__ import annotations

import ssl

import httpx
import pytest

from server.accounts import revoke_device
from server.app import PUBLIC_PATHS
from server.security.tokens import Role

pytestmark = pytest.mark.postgres

DEVICE_PREFIX = "/v1/kiosk/"
SAMPLE_PATH_VALUES = {"name": "watchlist", "transaction_id": "txn-1"}


def _routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every operation of the app (FastAPI >= 0.16x nests included routers in
    ``app.routes``, so the operations are taken from its OpenAPI document)."""
    found = []
    for template, operations in app.openapi()["paths"].items():
        if template in PUBLIC_PATHS:
            continue
        path = template
        for key, value in SAMPLE_PATH_VALUES.items():
            path = path.replace("{" + key + "}", value)
        for method in sorted(operations):
            found.append((method.upper(), path))
    return found


def _ssl(setup, with_cert: bool) -> ssl.SSLContext:  # type: ignore[no-untyped-def]
    context = ssl.create_default_context(cafile=str(setup.credentials / "ca.pem"))
    if with_cert:
        context.load_cert_chain(
            str(setup.credentials / "kiosk.pem"), str(setup.credentials / "kiosk.key")
        )
    return context


def test_every_endpoint_refuses_a_caller_without_credentials(
    server_setup, running_server, asgi_app
) -> None:  # type: ignore[no-untyped-def]
    # GIVEN the real server over TLS and a client with neither certificate nor token
    routes = _routes(asgi_app)
    assert len(routes) >= 15
    with httpx.Client(verify=_ssl(server_setup, False), base_url=running_server.url) as client:
        # WHEN it calls every endpoint (with a body that would otherwise be valid JSON)
        for method, path in routes:
            answer = client.request(method, path, json={})
            # THEN each one refuses it before anything else
            assert answer.status_code == 401, (method, path, answer.status_code)
        # AND the public ones answer
        assert client.get("/healthz").json()["status"] == "ok"
        assert "kiosk_server_auth_refused" in client.get("/metrics").text


def test_device_endpoints_refuse_tokens_and_people_endpoints_refuse_certificates(
    server_setup, running_server, asgi_app
) -> None:  # type: ignore[no-untyped-def]
    admin = server_setup.user(Role.ADMINISTRATOR)
    with httpx.Client(verify=_ssl(server_setup, True), base_url=running_server.url) as client:
        token = client.post(
            "/v1/auth/token",
            json={"username": admin, "password": "correct horse battery staple"},
        ).json()["access_token"]
        for method, path in _routes(asgi_app):
            # a device certificate alone opens only the kiosk endpoints
            answer = client.request(method, path, json={})
            if path.startswith(DEVICE_PREFIX):
                assert answer.status_code != 401, (method, path)
            else:
                assert answer.status_code == 401, (method, path)
    with httpx.Client(verify=_ssl(server_setup, False), base_url=running_server.url) as client:
        for method, path in _routes(asgi_app):
            if path.startswith(DEVICE_PREFIX):  # a token never opens a kiosk endpoint
                answer = client.request(
                    method, path, json={}, headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 401, (method, path)


def test_a_revoked_device_is_refused_on_its_next_request(server_setup, running_server) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(verify=_ssl(server_setup, True), base_url=running_server.url) as client:
        assert client.get("/v1/kiosk/resolutions").status_code == 200
        revoke_device(server_setup.state.database, server_setup.device, actor="test")
        answer = client.get("/v1/kiosk/resolutions")
    assert answer.status_code == 403
    assert "revoked" in answer.json()["detail"]


def test_a_certificate_from_another_ca_fails_the_handshake(
    server_setup, running_server, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from server.security.ca import DeviceCA

    other = DeviceCA.open_or_create(tmp_path / "other-ca")
    issued = other.issue(server_setup.device, days=1)
    (tmp_path / "o.pem").write_bytes(issued.cert_pem)
    (tmp_path / "o.key").write_bytes(issued.key_pem)
    context = _ssl(server_setup, False)
    context.load_cert_chain(str(tmp_path / "o.pem"), str(tmp_path / "o.key"))
    with (
        httpx.Client(verify=context, base_url=running_server.url) as client,
        pytest.raises(httpx.HTTPError),
    ):
        client.get("/v1/kiosk/resolutions")


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.OFFICER, "/v1/referrals", "/v1/devices"),
        (Role.SUPERVISOR, "/v1/audit/events", "/v1/admin/lists/watchlist"),
        (Role.TECHNICIAN, "/v1/devices", "/v1/referrals"),
        (Role.ADMINISTRATOR, "/v1/admin/lists/watchlist", "/v1/audit/events"),
    ],
)
def test_each_role_sees_only_its_endpoints(
    server_setup, people_client, token_headers, role, allowed, refused
) -> None:  # type: ignore[no-untyped-def]
    headers = token_headers(people_client, server_setup.user(role))
    assert people_client.get(allowed, headers=headers).status_code == 200
    assert people_client.get(refused, headers=headers).status_code == 403


def test_wrong_password_and_forged_token_are_refused(server_setup, people_client) -> None:  # type: ignore[no-untyped-def]
    name = server_setup.user(Role.OFFICER)
    answer = people_client.post("/v1/auth/token", json={"username": name, "password": "x" * 20})
    assert answer.status_code == 401
    import jwt

    forged = jwt.encode(
        {
            "sub": name,
            "role": "administrator",
            "iss": "kiosk-server",
            "iat": 1,
            "exp": 4_000_000_000,
        },
        "not-the-secret" * 3,
        algorithm="HS256",
    )
    answer = people_client.get("/v1/referrals", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
