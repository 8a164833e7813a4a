"""The analysis pages in headless Chromium, at 375 px and 1440 px: every chart drawn by
Vega-Lite from the JSON API, no WCAG 2.1 A/AA violation found by axe-core, nothing wider
than the screen, and a screenshot in docs/screenshots/analysis-<page>-<width>.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS, assert_no_wcag_violations, serve
from tests.factories_real import (
    analysis_app,
    analysis_settings,
    publish_analysis_samples,
)

pytestmark = pytest.mark.browser

#: page -> (address, expected HTTP status, charts drawn)
PAGES: dict[str, tuple[str, int, int]] = {
    "index": ("/analysis", 200, 0),
    "benchmark": ("/analysis/benchmark?dataset=ri_stops&by=subject_race&period=2007", 200, 1),
    "funnel": ("/analysis/funnel?dataset=seattle_use_of_force&by=beat", 200, 1),
    "funnel-quarters": ("/analysis/funnel?dataset=ri_stops&by=quarter", 200, 1),
    "outcomes": ("/analysis/outcomes?dataset=philadelphia_complaints", 200, 5),
    "representation": ("/analysis/representation?dataset=nj_officers", 200, 1),
    "darkness": ("/analysis/darkness?dataset=ri_stops", 200, 1),
    "darkness-hispanic": (
        "/analysis/darkness?dataset=ri_stops&group=Hispanic+or+Latino&controls=year",
        200,
        1,
    ),
    "outcome-tests": ("/analysis/outcome-tests?dataset=ri_stops", 200, 2),
    "bad-period": ("/analysis/benchmark?dataset=ri_stops&period=soon", 400, 0),
}


@pytest.fixture(scope="module")
def analysis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal with the analysis samples, served on 127.0.0.1 in a background thread."""
    data_dir = tmp_path_factory.mktemp("analysis-browser")
    publish_analysis_samples(data_dir)
    with serve(analysis_app(analysis_settings(data_dir))) as url:
        yield url


def open_page(page: Page, url: str, name: str) -> None:
    address, status, charts = PAGES[name]
    response = page.goto(url + address)
    assert response is not None and response.status == status
    page.wait_for_load_state("load")
    expect(page.locator(".ob-chart__canvas")).to_have_count(charts)
    expect(page.locator(".ob-chart__canvas[data-drawn='true']")).to_have_count(charts)


@pytest.mark.parametrize("name", list(PAGES))
def test_charts_drawn_and_no_wcag_violations(
    sized_page: Page, analysis_url: str, name: str
) -> None:
    open_page(sized_page, analysis_url, name)
    for canvas in sized_page.locator(".ob-chart__canvas").all():
        assert (
            canvas.locator("svg .mark-symbol path, svg .mark-rect path").count() > 0
        )  # marks, not an empty frame
    assert_no_wcag_violations(sized_page)


@pytest.mark.parametrize("name", list(PAGES))
def test_fits_the_screen_and_is_photographed(
    sized_page: Page, analysis_url: str, name: str
) -> None:
    open_page(sized_page, analysis_url, name)
    width = sized_page.viewport_size["width"] if sized_page.viewport_size else 0
    page_width = sized_page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"{name} is {page_width}px wide on a {width}px screen"
    assert sized_page.locator("h1").count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sized_page.screenshot(path=str(SCREENSHOTS / f"analysis-{name}-{width}.png"), full_page=True)


def test_the_form_makes_a_shareable_url(page: Page, analysis_url: str) -> None:
    page.goto(analysis_url + "/analysis/benchmark?dataset=ri_stops&period=2007")
    page.select_option("#benchmark-by", "subject_sex")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "by=subject_sex" in page.url and "period=2007" in page.url
    expect(page.locator("table").first).to_contain_text("Male")
