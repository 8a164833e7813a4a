"""The rate limiter's buckets and the client address behind proxies (web/limits.py,
web/clients.py), with a clock the test moves."""

from __future__ import annotations

import pytest

from openblotter.web.clients import client_address, parse_networks
from openblotter.web.limits import TokenBuckets, bucket_key
from openblotter.web.security import host_allowed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate_and_says_how_long_to_wait():
    clock = Clock()
    buckets = TokenBuckets(per_minute=60, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(1.0)  # one token a second
    assert buckets.take("b") == 0  # another client has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == pytest.approx(0.5)  # a refused request costs nothing
    clock.now += 0.5
    assert buckets.take("a") == 0
    clock.now += 3600
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # refilled to the burst, no more
    assert buckets.take("a", cost=5) == pytest.approx(3.0)  # an export needs its whole cost


def headers(**values: str) -> dict:
    return {
        "client": (values.pop("peer"), 5000),
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in values.items()],
    }


def test_forwarding_headers_are_read_only_from_trusted_proxies():
    proxies = parse_networks(["10.0.0.0/8", "fd00::1"])
    assert client_address(headers(peer="198.51.100.4", x_forwarded_for="1.2.3.4"), proxies) == (
        "198.51.100.4"
    )
    chain = headers(peer="10.0.0.2", x_forwarded_for="6.6.6.6, 203.0.113.5, 10.0.0.9")
    assert client_address(chain, proxies) == "203.0.113.5"
    forwarded = headers(
        peer="fd00::1", forwarded='for=192.0.2.60;proto=http, for="[2001:db8::1]:80"'
    )
    assert client_address(forwarded, proxies) == "2001:db8::1"
    assert client_address(headers(peer="10.0.0.2"), proxies) == "10.0.0.2"
    assert client_address(headers(peer="10.0.0.2", forwarded="for=unknown"), proxies) == "10.0.0.2"
    assert client_address(headers(peer="10.0.0.2", x_forwarded_for="1.2.3.4"), ()) == "10.0.0.2"
    with pytest.raises(ValueError, match="not an IP address"):
        parse_networks(["proxy.example"])


def test_ipv6_clients_are_counted_by_their_64_and_ipv4_by_their_address():
    assert bucket_key("2001:db8:1:2:aaaa::1") == bucket_key("2001:db8:1:2:bbbb::9")
    assert bucket_key("2001:db8:1:2::1") != bucket_key("2001:db8:1:3::1")
    assert bucket_key("192.0.2.1") == "192.0.2.1"
    assert bucket_key("testclient") == "testclient"


def test_allowed_hosts_match_names_wildcards_and_ports():
    allowed = ["data.example.gov", "*.internal.example.gov"]
    assert host_allowed("data.example.gov", allowed)
    assert host_allowed("DATA.example.gov:443", allowed)
    assert host_allowed("web-1.internal.example.gov", allowed)
    assert not host_allowed("data.example.gov.evil.example", allowed)
    assert not host_allowed("evilinternal.example.gov", allowed)
    assert not host_allowed("", allowed)
    assert host_allowed("anything", ["*"])


def test_settings_refuse_a_base_url_or_proxy_that_cannot_work():
    from pydantic import ValidationError

    from tests.factories import make_settings

    assert make_settings("d", public_base_url="https://data.example.gov/").public_base_url == (
        "https://data.example.gov"
    )
    with pytest.raises(ValidationError, match="is not like https://"):
        make_settings("d", public_base_url="data.example.gov")
    with pytest.raises(ValidationError, match="not an IP address or network"):
        make_settings("d", trusted_proxies=["proxy.internal"])
