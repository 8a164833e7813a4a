"""Every response carries the security headers; hosts are never reflected; the read API has a
CORS policy; clients over their rate get a 429 with Retry-After (issue 17)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from openblotter.web.app import create_app
from tests.conftest import REAL_DATA
from tests.factories import make_settings, publish_file

DENVER = REAL_DATA / "denver/BiasMotivatedCrimes.csv"
#: One path of each kind of response: JSON, download, release file, docs, schema, static,
#: JSON error, HTML error, page, health.
EVERY_KIND = [
    "/api/v1/datasets",
    "/api/v1/datasets/denver/rows.csv",
    "/api/v1/datasets/denver/releases/2026-Q2/file.parquet",
    "/api/docs",
    "/openapi.json",
    "/static/css/portal.css",
    "/api/v1/datasets/nosuch",
    "/nosuch-page",
    "/datasets/denver",
    "/healthz",
]


def portal_client(tmp_path, **settings) -> TestClient:
    app = create_app(make_settings(tmp_path / "portal", **settings))
    publish_file(app.state.portal, DENVER, "denver", "2026-Q2")
    return TestClient(app)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with portal_client(tmp_path_factory.mktemp("headers")) as client:
        yield client


@pytest.mark.parametrize("path", EVERY_KIND)
def test_security_headers_on_every_kind_of_response(client, path):
    response = client.get(path, headers={"accept": "text/html"})
    assert response.status_code in (200, 404), path
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers
    assert "server" not in headers


def test_pages_keep_their_policy_and_the_api_loads_nothing(client):
    page = client.get("/datasets/denver").headers["content-security-policy"]
    assert "script-src 'self'" in page
    api = client.get("/api/v1/datasets").headers["content-security-policy"]
    assert api.startswith("default-src 'none'")
    docs = client.get("/api/docs")
    assert docs.headers["content-security-policy"] == page  # vendored Swagger UI: the pages


def test_hsts_only_when_the_portal_is_behind_tls(tmp_path):
    with portal_client(tmp_path, behind_tls=True) as client:
        for path in ("/api/v1/datasets", "/datasets/denver", "/static/css/portal.css"):
            assert client.get(path).headers["strict-transport-security"].startswith("max-age=")


def _jsonld(html: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_a_spoofed_host_is_never_echoed_into_links_or_json_ld(client):
    spoofed = {"host": "evil.example"}
    rows = client.get("/api/v1/datasets/denver/rows", params={"_size": 5}, headers=spoofed)
    assert rows.status_code == 200
    assert "evil.example" not in rows.headers["link"]
    assert rows.headers["link"].startswith("</api/v1/datasets/denver/rows?")
    page = client.get("/datasets/denver", headers=spoofed)
    assert "evil.example" not in page.text
    assert _jsonld(page.text)["url"] == "/datasets/denver"


def test_links_start_with_the_public_base_url_and_other_hosts_are_refused(tmp_path):
    settings = {
        "public_base_url": "https://data.example.gov",
        "allowed_hosts": ["data.example.gov", "*.internal.example.gov"],
    }
    with portal_client(tmp_path, **settings) as client:
        good = {"host": "data.example.gov"}
        rows = client.get("/api/v1/datasets/denver/rows", params={"_size": 5}, headers=good)
        assert rows.headers["link"].startswith("<https://data.example.gov/api/v1/")
        page = client.get("/datasets/denver", headers=good)
        assert _jsonld(page.text)["url"] == "https://data.example.gov/datasets/denver"
        inner = client.get("/healthz", headers={"host": "web-1.internal.example.gov:8000"})
        assert inner.status_code == 200
        refused = client.get("/api/v1/datasets", headers={"host": "evil.example"})
        assert refused.status_code == 400
        assert refused.json()["error"]["detail"] == {"parameter": "Host"}
        assert refused.headers["x-content-type-options"] == "nosniff"


def test_the_read_api_may_be_read_from_any_origin_without_credentials(client):
    origin = {"origin": "https://newsroom.example"}
    api = client.get("/api/v1/datasets/denver/rows", params={"_size": 2}, headers=origin)
    assert api.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in api.headers
    assert "link" in api.headers["access-control-expose-headers"].lower()
    preflight = client.options(
        "/api/v1/datasets",
        headers={**origin, "access-control-request-method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]
    refused = client.options(
        "/api/v1/datasets",
        headers={**origin, "access-control-request-method": "DELETE"},
    )
    assert refused.status_code == 400
    page = client.get("/datasets/denver", headers=origin)
    assert "access-control-allow-origin" not in page.headers


def test_a_client_over_its_rate_gets_429_with_retry_after(tmp_path):
    settings = {"rate_limit_enabled": True, "rate_limit_per_minute": 60, "rate_limit_burst": 5}
    with portal_client(tmp_path, **settings) as client:
        statuses = [client.get("/api/v1/datasets").status_code for _ in range(5)]
        assert statuses == [200] * 5
        limited = client.get("/api/v1/datasets")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        error = limited.json()["error"]
        assert error["code"] == "rate_limited"
        assert error["detail"] == {"retry_after": 1, "per_minute": 60, "burst": 5}
        assert limited.headers["x-content-type-options"] == "nosniff"
        assert client.get("/healthz").status_code == 200  # health checks are never limited
        assert client.get("/static/css/portal.css").status_code == 200
        page = client.get("/datasets/denver", headers={"accept": "text/html"})
        assert page.status_code == 429 and page.headers["retry-after"]
        assert page.headers["content-type"].startswith("text/html")
        assert (
            "Too many requests" in page.text
            and "script-src 'self'" in page.headers["content-security-policy"]
        )
        # Forwarding headers from a client that is not a trusted proxy change nothing.
        spoofed = client.get("/api/v1/datasets", headers={"x-forwarded-for": "203.0.113.9"})
        assert spoofed.status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(tmp_path):
    settings = {
        "rate_limit_enabled": True,
        "rate_limit_per_minute": 60,
        "rate_limit_burst": 2,
        "trusted_proxies": ["10.0.0.0/8"],
    }
    app = create_app(make_settings(tmp_path / "proxied", **settings))
    with TestClient(app, client=("10.1.2.3", 40000)) as proxy:

        def status(forwarded_for: str) -> int:
            headers = {"x-forwarded-for": forwarded_for}
            return proxy.get("/api/v1/datasets", headers=headers).status_code

        # The proxy appends the address it saw; what the client wrote before it is not trusted.
        assert [status("198.51.100.1, 203.0.113.1") for _ in range(3)] == [200, 200, 429]
        assert status("203.0.113.2") == 200
        assert status("203.0.113.1, 10.9.9.9") == 429  # a trusted hop is skipped
        forwarded = proxy.get("/api/v1/datasets", headers={"forwarded": 'for="[2001:db8::7]:4711"'})
        assert forwarded.status_code == 200
