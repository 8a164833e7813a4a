"""The API docs are the portal's own: Swagger UI from vendored files (nothing asked of another
host), a plain reference readable without JavaScript, and catalog cards whose links' names
contain their visible text (axe's label-content-name-mismatch, 14 nodes before)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from openblotter.web.app import create_app
from tests.browser.conftest import WIDTHS, RunningPortal, assert_no_wcag_violations, serve
from tests.factories import make_settings

pytestmark = pytest.mark.browser


def _operations(url: str) -> list[tuple[str, str]]:
    paths = httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


@pytest.fixture()
def offline_page(browser: Browser, running_portal: RunningPortal) -> Iterator[Page]:
    """A page whose requests to anywhere but the portal are recorded and refused."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    elsewhere: list[str] = []

    def refuse_elsewhere(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith(running_portal.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", refuse_elsewhere)
    page.elsewhere = elsewhere  # type: ignore[attr-defined]
    yield page
    context.close()


def test_swagger_ui_draws_every_route_from_the_portals_own_files(
    offline_page: Page, running_portal: RunningPortal
) -> None:
    errors: list[str] = []
    offline_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    offline_page.goto(running_portal.url + "/api/docs")
    expect(offline_page.locator(".opblock").first).to_be_visible()
    assert offline_page.locator(".opblock").count() == len(_operations(running_portal.url))
    offline_page.locator(".opblock-summary-control").first.click()
    expect(offline_page.locator(".opblock-body").first).to_be_visible()
    assert offline_page.elsewhere == []  # type: ignore[attr-defined]
    assert errors == []  # no CSP refusal, no failed load


def test_without_javascript_the_reference_lists_every_route(
    browser: Browser, running_portal: RunningPortal
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(running_portal.url + "/api/docs")
    expect(page.get_by_role("link", name="plain API reference").first).to_be_visible()
    page.get_by_role("link", name="plain API reference").first.click()
    assert page.url == running_portal.url + "/api/reference"
    headings = [h.strip() for h in page.locator("article h3").all_inner_texts()]
    assert sorted(headings) == sorted(f"{m} {p}" for m, p in _operations(running_portal.url))
    rows = page.get_by_role(
        "region", name="Parameters of GET /api/v1/datasets/{dataset_id}/rows", exact=True
    )
    expect(rows.get_by_role("rowheader", name="_release")).to_be_visible()
    footer = page.locator("footer")
    expect(footer.get_by_role("link", name="API reference (plain HTML)")).to_be_visible()
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_catalog_card_links_say_what_they_show(
    browser: Browser, running_portal: RunningPortal, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(running_portal.url + "/")
    rule = {"runOnly": {"type": "rule", "values": ["label-content-name-mismatch"]}}
    results = Axe().run(page, options=rule)
    assert results.violations_count == 0, results.generate_report()
    links = page.locator(".usa-card__footer a")
    assert links.count() >= 4 and page.locator(".usa-card [aria-label]").count() == 0
    # The rule does run here: a link whose label drops its visible words is caught.
    page.evaluate(
        "document.querySelector('.usa-card__footer').insertAdjacentHTML('beforeend', "
        '\'<a href="/" aria-label="Seattle use of force">About and downloads</a>\')'
    )
    assert Axe().run(page, options=rule).violations_count == 1
    name = links.first.evaluate("a => a.textContent.replace(/\\s+/g, ' ').trim()")
    assert name.startswith("About and downloads of ")  # visible words first, then the dataset
    context.close()


def test_an_unconfigured_portal_says_so_accessibly(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No agency, no city: a notice on every page (axe-clean), and no borrowed identity."""
    app = create_app(make_settings(tmp_path_factory.mktemp("unconfigured")))
    with serve(app) as url:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            for path in ("/", "/api/reference"):
                page.goto(url + path)
                notice = page.get_by_role("note").filter(has_text="not set up yet")
                expect(notice).to_contain_text("openblotter init")
                assert "Norman" not in page.content()
                assert_no_wcag_violations(page)
            context.close()
