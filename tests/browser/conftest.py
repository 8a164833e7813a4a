"""Browser tests: the portal served by uvicorn on loopback, driven by headless Chromium.

One server per test session, over a temporary data directory published from
the real files (see sample_portal.py). The system Chromium is used; Playwright
downloads no browser.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser.sample_portal import SamplePortal, portal_app, publish_samples

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]
#: Where pages are photographed: a temporary folder, so `make test` leaves the checkout clean;
#: `make screenshots` sets OPENBLOTTER_SCREENSHOTS=docs/screenshots for the documentation.
SCREENSHOTS = ROOT / os.environ.get(
    "OPENBLOTTER_SCREENSHOTS", str(Path(tempfile.gettempdir()) / "openblotter-screenshots")
)
#: A phone and a desktop: every page is checked and photographed at both widths.
WIDTHS = (375, 1440)
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_axe = Axe()


def assert_no_wcag_violations(page: Page) -> None:
    """axe-core in the page finds no WCAG 2.1 A/AA violation (the report says which, where)."""
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    assert results.violations_count == 0, results.generate_report()


@dataclass(frozen=True)
class RunningPortal:
    url: str
    sample: SamplePortal


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a background thread; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        raise RuntimeError("the test server did not start within 30 seconds")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def running_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    """The portal with the sample datasets, served on 127.0.0.1 in a background thread."""
    sample = publish_samples(tmp_path_factory.mktemp("browser-portal"))
    with serve(portal_app(sample.settings)) as url:
        yield RunningPortal(url, sample)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    launched = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh desktop-sized page (its own context: no shared cookies or storage)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture(scope="module", params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """One page per width, shared by a module's tests."""
    context = browser.new_context(viewport={"width": request.param, "height": 900})
    yield context.new_page()
    context.close()
