"""Every page type, on a phone (375 px) and a desktop (1440 px): no WCAG 2.1 A/AA violations
found by axe-core, nothing wider than the screen, and a screenshot in docs/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, RunningPortal, assert_no_wcag_violations

pytestmark = pytest.mark.browser


#: page type -> (address, expected HTTP status)
PAGE_TYPES: dict[str, tuple[str, int]] = {
    "catalog": ("/", 200),
    "catalog-search": ("/?q=no-such-dataset", 200),
    "dataset": ("/datasets/seattle_use_of_force", 200),
    "dataset-demo": ("/datasets/demo_contacts", 200),
    "explore": ("/datasets/seattle_use_of_force/explore?force_level=Level+2+-+Use+of+Force", 200),
    "explore-no-rows": ("/datasets/denver_bias_crimes/explore?_q=no-such-words", 200),
    "explore-bad-filter": (
        "/datasets/seattle_use_of_force/explore?incident_date__gte=yesterday",
        400,
    ),
    "charts": ("/datasets/seattle_use_of_force/charts", 200),
    "diff": ("/datasets/philadelphia_complaints/releases/2018-Q3/diff/2019-Q1?change=changed", 200),
    "not-found": ("/datasets/no_such_dataset", 404),
    "api-docs": ("/api/docs", 200),
    "api-reference": ("/api/reference", 200),
}


def open_page(page: Page, running_portal: RunningPortal, name: str) -> None:
    address, status = PAGE_TYPES[name]
    response = page.goto(running_portal.url + address)
    assert response is not None and response.status == status
    page.wait_for_load_state("load")
    if name == "charts":  # the charts are drawn after the page loads
        drawn = page.locator(".ob-chart__canvas[data-drawn='true']")
        expect(drawn).to_have_count(page.locator(".ob-chart__canvas").count())
    if name == "api-docs":  # Swagger UI draws the operations after the page loads
        expect(page.locator(".opblock").first).to_be_visible()


@pytest.mark.parametrize("name", list(PAGE_TYPES))
def test_no_wcag_violations(sized_page: Page, running_portal: RunningPortal, name: str) -> None:
    open_page(sized_page, running_portal, name)
    assert_no_wcag_violations(sized_page)


@pytest.mark.parametrize("name", list(PAGE_TYPES))
def test_fits_the_screen_and_is_photographed(
    sized_page: Page, running_portal: RunningPortal, name: str
) -> None:
    open_page(sized_page, running_portal, name)
    width = sized_page.viewport_size["width"] if sized_page.viewport_size else 0
    # Wide data tables scroll inside their own region; the page itself never scrolls sideways.
    page_width = sized_page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"{name} is {page_width}px wide on a {width}px screen"
    assert sized_page.locator("h1").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sized_page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
