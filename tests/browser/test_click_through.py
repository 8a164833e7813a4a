"""A resident's path through the portal in a real browser: catalog -> dataset -> explore ->
filter -> download, with JavaScript (in-place updates, charts) and without it."""

from __future__ import annotations

import re

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import RunningPortal

pytestmark = pytest.mark.browser

LEVEL_2 = "Level 2 - Use of Force"


def release_frame(portal: RunningPortal, dataset_id: str) -> pl.DataFrame:
    sample = portal.sample
    return pl.read_parquet(sample.portal.release_path(sample.portal.release(dataset_id)))


def count_on_page(page: Page) -> int:
    text = page.locator("#results-status").inner_text()
    match = re.search(r"([\d,]+) rows? match", text)
    assert match, text
    return int(match.group(1).replace(",", ""))


def test_catalog_to_dataset_to_explore_to_filter_to_download(
    page: Page, running_portal: RunningPortal
) -> None:
    frame = release_frame(running_portal, "seattle_use_of_force")
    page.goto(running_portal.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Open data of Test Police Department"
    )
    page.get_by_role("link", name="Seattle use of force", exact=True).click()

    expect(page).to_have_url(running_portal.url + "/datasets/seattle_use_of_force")
    expect(page.get_by_role("heading", level=1)).to_have_text("Seattle use of force")
    expect(page.locator("#definitions")).to_contain_text("conducted electrical weapon")
    page.get_by_role("navigation", name="Views of this dataset").get_by_role(
        "link", name="Explore rows"
    ).click()

    expect(page.locator("#results-status")).to_contain_text(f"{frame.height:,} rows match")
    expect(page.locator("table.ob-rows tbody tr")).to_have_count(100)
    page.get_by_text("More filters").click()
    page.get_by_label("Level of force").select_option(LEVEL_2)
    page.get_by_role("button", name="Apply filters").click()

    expected = frame.filter(pl.col("force_level") == LEVEL_2)
    expect(page.locator("#results-status")).to_contain_text(f"{expected.height:,} rows match")
    expect(page.locator("#results-status")).to_contain_text(f"Level of force is “{LEVEL_2}”")
    expect(page).to_have_url(re.compile(r"force_level=Level\+2\+-\+Use\+of\+Force"))
    headers = page.locator("table.ob-rows thead th").all_inner_texts()
    column = headers.index("force_level") + 1
    levels = page.locator(f"table.ob-rows tbody tr td:nth-child({column})").all_inner_texts()
    assert set(levels) == {LEVEL_2} and len(levels) == 100

    with page.expect_download() as download_info:
        page.locator(".ob-actions").get_by_role("link", name="Parquet").click()
    download = download_info.value
    assert download.suggested_filename == "seattle_use_of_force-2024-Q4.parquet"
    downloaded = pl.read_parquet(download.path())
    assert downloaded.height == count_on_page(page) == expected.height
    assert set(downloaded["force_level"]) == {LEVEL_2}


def test_javascript_updates_the_table_in_place_and_keeps_the_url_shareable(
    page: Page, running_portal: RunningPortal
) -> None:
    page.goto(running_portal.url + "/datasets/seattle_use_of_force/explore")
    page.evaluate("window.stillTheSameDocument = true")
    page.get_by_label("Person's race").select_option("Asian")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"subject_race=Asian"))
    expect(page.locator("#results-status")).to_contain_text("Person's race is “Asian”")
    assert page.evaluate("window.stillTheSameDocument") is True  # no full page load
    assert "_q=" not in page.url  # blank fields are left out of the address

    first_cell = page.locator("table.ob-rows tbody tr td").first
    first_record = first_cell.inner_text()
    page.get_by_role("link", name=re.compile(r"Next \d+ rows")).click()
    expect(first_cell).not_to_have_text(first_record)
    expect(page.get_by_role("link", name="First page")).to_be_visible()
    page.go_back()
    expect(first_cell).to_have_text(first_record)
    assert page.evaluate("window.stillTheSameDocument") is True

    shared = page.url  # the address bar holds the whole query: opening it shows the same rows
    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator("#results-status")).to_have_text(
        page.locator("#results-status").inner_text()
    )


def test_filters_work_without_javascript(browser: Browser, running_portal: RunningPortal) -> None:
    frame = release_frame(running_portal, "denver_bias_crimes")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(running_portal.url + "/datasets/denver_bias_crimes/explore")
    expect(page.locator("#filter-form")).to_be_visible()  # not folded away without JavaScript
    bias = frame.columns[[c.lower() for c in frame.columns].index("bias_type")]
    top = frame.group_by(bias).len().sort("len", descending=True).row(0)
    page.locator(f"#filter-{bias}").select_option(top[0])
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#results-status")).to_contain_text(f"{top[1]:,} row")
    assert (
        f"{bias}=" in page.url and "_q=&" in page.url + "&"
    )  # a plain GET form submits blanks too
    context.close()


def test_bad_filter_value_is_explained_on_the_page(
    page: Page, running_portal: RunningPortal
) -> None:
    response = page.goto(
        running_portal.url + "/datasets/seattle_use_of_force/explore?subject_age__gte=forty"
    )
    assert response is not None and response.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("These filters could not be used")
    expect(alert).to_contain_text("'subject_age__gte': 'forty' is not a integer")
    page.get_by_role("link", name="start over with no filters").click()
    expect(page.locator("#results-status")).to_contain_text("rows match")


def test_charts_are_drawn_from_the_json_api_and_have_tables(
    page: Page, running_portal: RunningPortal
) -> None:
    api_calls: list[str] = []
    page.on(
        "request",
        lambda request: api_calls.append(request.url) if "/aggregate" in request.url else None,
    )
    page.goto(running_portal.url + "/datasets/seattle_use_of_force/charts")
    charts = page.locator(".ob-chart__canvas")
    count = charts.count()
    assert count >= 2
    expect(page.locator(".ob-chart__canvas[data-drawn='true']")).to_have_count(count)
    expect(page.locator(".ob-chart__canvas svg").first).to_be_visible()
    assert len(api_calls) == count
    page.get_by_text("Table of rows by quarter").click()
    expect(page.get_by_role("region", name="Table of Quarter")).to_contain_text("2014-Q2")


def test_release_diff_is_reached_from_the_release_history(
    page: Page, running_portal: RunningPortal
) -> None:
    page.goto(running_portal.url + "/datasets/philadelphia_complaints")
    page.get_by_role("link", name="See what changed since 2018-Q3").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Philadelphia complaints against police: what changed"
    )
    page.get_by_role("navigation", name="Kind of change").get_by_role(
        "link", name=re.compile("Changed")
    ).click()
    expect(page.locator("table.ob-rows tbody tr")).to_have_count(50)
    expect(page.locator("table.ob-rows tbody tr").first.locator("del")).to_be_visible()


def test_on_a_phone_the_rows_come_first_and_the_filters_unfold(
    browser: Browser, running_portal: RunningPortal
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(running_portal.url + "/datasets/seattle_use_of_force/explore")
    expect(page.locator("#filter-form")).to_be_hidden()
    expect(page.locator("table.ob-rows")).to_be_visible()
    page.get_by_text("Filter rows").click()
    page.get_by_label("Person's sex").select_option("Female")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#results-status")).to_contain_text("Person's sex is “Female”")
    expect(page.locator("#filter-form")).to_be_visible()  # still open after the in-place update
    context.close()
