"""A dataset published only as counts, in headless Chromium: Dallas's real 2016 use of force.

The about page says counts only and offers no rows or downloads; the charts draw
the published counts and their tables say "Hidden" for the suppressed ones; the
benchmark hides its small groups. No WCAG 2.1 A/AA violation found by axe-core,
at 375 px and 1440 px; screenshots in docs/screenshots/counts-only-<page>-<width>.png.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from openblotter.web.app import create_app
from tests.browser.conftest import SCREENSHOTS, assert_no_wcag_violations, serve
from tests.factories import make_portal, make_settings, publish_dallas

pytestmark = pytest.mark.browser

#: page -> (address, charts drawn)
PAGES = {
    "about": ("/datasets/use_of_force", 0),
    "charts": ("/datasets/use_of_force/charts", 7),
    "benchmark": ("/analysis/benchmark?dataset=use_of_force&period=2016", 1),
}


@pytest.fixture(scope="module")
def counts_only_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("counts-only-browser")
    settings = make_settings(data_dir, aggregates_only_datasets=["use_of_force"])
    publish_dallas(make_portal(data_dir, aggregates_only_datasets=["use_of_force"]), data_dir)
    with serve(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize("name", list(PAGES))
def test_counts_only_pages_draw_accessible_and_fit(
    sized_page: Page, counts_only_url: str, name: str
) -> None:
    address, charts = PAGES[name]
    response = sized_page.goto(counts_only_url + address)
    assert response is not None and response.status == 200
    sized_page.wait_for_load_state("load")
    expect(sized_page.locator(".ob-chart__canvas[data-drawn='true']")).to_have_count(charts)
    assert_no_wcag_violations(sized_page)
    width = sized_page.viewport_size["width"] if sized_page.viewport_size else 0
    assert sized_page.evaluate("document.documentElement.scrollWidth") <= width
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sized_page.screenshot(path=str(SCREENSHOTS / f"counts-only-{name}-{width}.png"), full_page=True)


def test_the_about_page_offers_counts_not_rows(page: Page, counts_only_url: str) -> None:
    page.goto(counts_only_url + "/datasets/use_of_force")
    expect(page.locator("#counts-only")).to_contain_text("published only as counts")
    expect(page.locator("nav.ob-tabs a")).to_have_text(["About", "Charts"])
    expect(page.locator("a.ob-download")).to_have_count(0)


def test_hidden_counts_read_as_hidden_in_the_chart_tables(page: Page, counts_only_url: str) -> None:
    page.goto(counts_only_url + "/datasets/use_of_force/charts")
    expect(page.locator("#suppression")).to_contain_text("Counts from 1 to 9 are hidden")
    race = page.locator("details.ob-chart__table", has_text="Person's race")
    race.locator("summary").click()
    row = race.locator("tr", has_text="American Indian or Alaska Native")
    expect(row.locator("td").first).to_have_text("Hidden")


def test_explore_is_refused_with_a_way_on(page: Page, counts_only_url: str) -> None:
    response = page.goto(counts_only_url + "/datasets/use_of_force/explore")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("/api/v1/datasets/use_of_force/aggregate")
