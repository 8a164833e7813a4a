"""The HTML pages over HTTP, against a portal published from real files.

Each page is fetched as a browser would (``Accept: text/html``) and read with a
small HTML tree builder; numbers on the pages are checked against the release
files read independently with polars.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import polars as pl
import pytest
from fastapi.testclient import TestClient

from openblotter.ingest.families import load_family
from openblotter.services.portal import Portal
from openblotter.services.publishing import PublishRequest, publish
from openblotter.services.releases import withdraw
from tests.browser.sample_portal import (
    REAL,
    SamplePortal,
    portal_app,
    publish_samples,
    sample_settings,
)

HTML = {"accept": "text/html,application/xhtml+xml"}


# --- a small HTML tree, enough to read pages ----------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []  # type: ignore[var-annotated]

    def walk(self) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        def matches(node: Node) -> bool:
            return node.tag == tag and all(
                value in (node.attrs.get(key.rstrip("_")) or "").split()
                or node.attrs.get(key.rstrip("_")) == value
                for key, value in attrs.items()
            )

        return [n for n in self.walk() if matches(n)]

    def find(self, tag: str, **attrs: str) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag} {attrs}>"
        return found[0]

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"\s+", " ", " ".join(parts)).strip()


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(text: str) -> Node:
    builder = TreeBuilder()
    builder.feed(text)
    return builder.root


def table_rows(table: Node) -> list[list[str]]:
    return [
        [
            cell.text()
            for cell in row.children
            if isinstance(cell, Node) and cell.tag in ("td", "th")
        ]
        for row in table.find_all("tr")
    ]


def query_of(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(html.unescape(href)).query)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePortal:
    return publish_samples(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def client(sample: SamplePortal) -> Iterator[TestClient]:
    with TestClient(portal_app(sample.settings), headers=HTML) as test_client:
        yield test_client


def release_frame(sample: SamplePortal, dataset_id: str, label: str | None = None) -> pl.DataFrame:
    release = sample.portal.release(dataset_id, label)
    return pl.read_parquet(sample.portal.release_path(release))


def page(client: TestClient, url: str, status: int = 200) -> Node:
    response = client.get(url)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return parse(response.text)


# --- catalog -----------------------------------------------------------------------------------


def test_catalog_shows_every_dataset_with_its_release_and_purpose(
    client: TestClient, sample: SamplePortal
) -> None:
    doc = page(client, "/")
    text = doc.text()
    assert sample.settings.statement_of_purpose in text
    cards = doc.find_all("li", class_="usa-card")
    titles = [card.find("h3").text() for card in cards]
    assert sorted(titles) == sorted(d.title for d in sample.portal.catalog.datasets())
    seattle = next(c for c in cards if c.find("h3").text() == "Seattle use of force")
    assert "Current release 2024-Q4" in seattle.text()
    assert "13,886 rows" in seattle.text()
    assert "next release expected: 2025-Q1" in seattle.text()
    assert "Every documented use of force" in seattle.text()  # the family's plain summary


def test_catalog_explains_limits_of_the_data_and_links_the_police_data_initiative(
    client: TestClient,
) -> None:
    doc = page(client, "/")
    explainer = doc.find("section", id="about-the-data").text()
    assert "What to know about open data in policing" in explainer
    assert "residential population" in explainer and "at risk of police contact" in explainer
    assert "incomplete" in explainer and "Definitions matter" in explainer
    assert any(
        a.attrs.get("href") == "https://www.policedatainitiative.org/" for a in doc.find_all("a")
    )


def test_catalog_search_and_family_filter_are_plain_get_forms(client: TestClient) -> None:
    doc = page(client, "/")
    form = doc.find("form", class_="ob-catalog-search")
    assert form.attrs["method"] == "get" and form.attrs["action"] == "/"
    found = page(client, "/?q=denver+bias")
    assert [c.find("h3").text() for c in found.find_all("li", class_="usa-card")] == [
        "Denver bias-motivated crimes"
    ]
    assert "1 of 4 datasets match" in found.text()
    none = page(client, "/?q=no-such-words-anywhere")
    assert none.find_all("li", class_="usa-card") == []
    assert "No dataset matches your search" in none.text()
    family = page(client, "/?family=use_of_force")
    assert [c.find("h3").text() for c in family.find_all("li", class_="usa-card")] == [
        "Seattle use of force"
    ]


def test_synthetic_dataset_carries_the_demo_notice_on_every_page(client: TestClient) -> None:
    home = page(client, "/")
    demo_card = next(
        c for c in home.find_all("li", class_="usa-card") if c.find("h3").text() == "Demo contacts"
    )
    other_card = next(
        c
        for c in home.find_all("li", class_="usa-card")
        if c.find("h3").text() == "Seattle use of force"
    )
    assert "Demo data" in demo_card.text() and "Demo data" not in other_card.text()
    notices = home.find_all("div", class_="ob-synthetic")  # once for the catalog, not per card
    assert len(notices) == 1 and "tagged “Demo data” are synthetic" in notices[0].text()
    for url in (
        "/datasets/demo_contacts",
        "/datasets/demo_contacts/explore",
        "/datasets/demo_contacts/charts",
    ):
        notice = page(client, url).find("div", class_="ob-synthetic")
        assert "not real police records" in notice.text()
    assert (
        page(client, "/datasets/seattle_use_of_force").find_all("div", class_="ob-synthetic") == []
    )


# --- dataset page ---------------------------------------------------------------------------


def test_dataset_page_explains_the_family_and_lists_every_published_column(
    client: TestClient, sample: SamplePortal
) -> None:
    doc = page(client, "/datasets/seattle_use_of_force")
    assert "Definitions" in doc.find("section", id="definitions").text()
    assert (
        "presentation of a conducted electrical weapon"
        in doc.find("section", id="definitions").text()
    )
    first_caveat = load_family("use_of_force").prose.caveats.lstrip("- ").split("\n")[0]
    assert first_caveat.strip() in doc.find("section", id="caveats").text()
    dictionary = doc.find("table", class_="ob-dictionary")
    names = [row.find("code").text() for row in dictionary.find("tbody").find_all("tr")]
    published = [c for c in release_frame(sample, "seattle_use_of_force").columns if c != "_row_id"]
    assert names == published
    rows = {r[0].split(" ")[0]: r for r in table_rows(dictionary)[1:]}
    assert rows["officer_id"][-1] == "hashed"
    assert rows["block_address"][-1] == "generalized (hundred_block)"
    not_published = doc.find("section", id="dictionary").text()
    assert "officer_name : dropped to protect privacy" in not_published
    assert "narrative : free text not published" in not_published


def test_dataset_page_offers_every_release_in_every_format(
    client: TestClient, sample: SamplePortal
) -> None:
    doc = page(client, "/datasets/philadelphia_complaints")
    releases = doc.find("section", id="releases")
    links = [a.attrs["href"] for a in releases.find_all("a", class_="ob-download")]
    for label in ("2019-Q1", "2018-Q3"):
        for fmt in ("csv", "ndjson", "parquet", "xlsx"):
            assert f"/api/v1/datasets/philadelphia_complaints/rows.{fmt}?_release={label}" in links
        assert f"/api/v1/datasets/philadelphia_complaints/releases/{label}/file.parquet" in links
    csv_2018 = client.get("/api/v1/datasets/philadelphia_complaints/rows.csv?_release=2018-Q3")
    assert csv_2018.status_code == 200
    assert len(pl.read_csv(io.BytesIO(csv_2018.content), infer_schema=False)) == 3786
    stored = client.get("/api/v1/datasets/philadelphia_complaints/releases/2018-Q3/file.parquet")
    assert pl.read_parquet(io.BytesIO(stored.content)).equals(
        release_frame(sample, "philadelphia_complaints", "2018-Q3")
    )
    assert "Since 2018-Q3: 1,511 rows added, 1 removed, 221 changed." in releases.text()


def test_dataset_page_has_schema_org_metadata(client: TestClient) -> None:
    doc = page(client, "/datasets/denver_bias_crimes")
    script = doc.find("script", type="application/ld+json")
    metadata = json.loads("".join(c for c in script.children if isinstance(c, str)))
    assert metadata["@type"] == "Dataset" and metadata["name"] == "Denver bias-motivated crimes"
    # Media types, as schema.org's encodingFormat asks (the stored file and the Parquet
    # export are both Parquet).
    assert {d["encodingFormat"] for d in metadata["distribution"]} == {
        "text/csv",
        "application/x-ndjson",
        "application/vnd.apache.parquet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert len(metadata["distribution"]) == 5


# --- explore --------------------------------------------------------------------------------


def test_explore_shows_a_page_of_rows_with_the_total_and_a_next_link(
    client: TestClient, sample: SamplePortal
) -> None:
    frame = release_frame(sample, "seattle_use_of_force")
    doc = page(client, "/datasets/seattle_use_of_force/explore")
    assert f"{frame.height:,} rows match" in doc.find("div", id="results-status").text()
    table = doc.find("table", class_="ob-rows")
    header, *rows = table_rows(table)
    assert header == [c for c in frame.columns if c != "_row_id"]
    assert len(rows) == 100
    assert [r[0] for r in rows] == frame["record_id"].head(100).to_list()
    next_link = doc.find("a", rel="next").attrs["href"]
    second = page(client, html.unescape(next_link))
    second_rows = table_rows(second.find("table", class_="ob-rows"))[1:]
    assert [r[0] for r in second_rows] == frame["record_id"].slice(100, 100).to_list()
    assert "First page" in second.text()


def test_explore_filters_by_a_coded_field_and_counts_its_values(
    client: TestClient, sample: SamplePortal
) -> None:
    frame = release_frame(sample, "seattle_use_of_force")
    level = "Level 2 - Use of Force"
    expected = frame.filter(pl.col("force_level") == level)
    doc = page(
        client, "/datasets/seattle_use_of_force/explore?force_level=" + level.replace(" ", "+")
    )
    assert (
        f"{expected.height:,} rows match where Level of force is “{level}”"
        in doc.find("div", id="results-status").text()
    )
    rows = table_rows(doc.find("table", class_="ob-rows"))
    column = rows[0].index("force_level")
    assert {r[column] for r in rows[1:]} == {level}
    select = doc.find("select", id="filter-force_level")
    options = {o.attrs["value"]: o.text() for o in select.find_all("option")}
    assert options[level] == f"{level} ({expected.height:,})"
    assert "selected" in select.find("option", value=level).attrs
    race = doc.find("select", id="filter-subject_race")
    counts = expected.group_by("subject_race").len()
    for value, count in counts.iter_rows():
        assert race.find("option", value=value).text() == f"{value} ({count:,})"


def test_explore_download_links_carry_the_same_filters(
    client: TestClient, sample: SamplePortal
) -> None:
    url = (
        "/datasets/seattle_use_of_force/explore"
        "?force_level=Level+3+-+OIS&_sort=-incident_date&_q=east"
    )
    doc = page(client, url)
    links = {
        a.text(): a.attrs["href"]
        for a in doc.find("div", class_="ob-actions").find_all("a", class_="ob-download")
    }
    assert set(links) == {"CSV", "NDJSON", "Parquet", "Excel (XLSX)"}
    for href in links.values():
        assert sorted(query_of(href)) == sorted(
            [("force_level", "Level 3 - OIS"), ("_sort", "-incident_date"), ("_q", "east")]
        )
    total = int(re.search(r"([\d,]+) rows? match", doc.text()).group(1).replace(",", ""))
    downloaded = pl.read_csv(
        io.BytesIO(client.get(html.unescape(links["CSV"])).content), infer_schema=False
    )
    assert downloaded.height == total > 0
    assert set(downloaded["force_level"]) == {"Level 3 - OIS"}
    assert downloaded["incident_date"].to_list() == sorted(
        downloaded["incident_date"].to_list(), reverse=True
    )


def test_explore_ranges_sort_and_release_choice(client: TestClient, sample: SamplePortal) -> None:
    frame = release_frame(sample, "philadelphia_complaints", "2018-Q3")
    url = (
        "/datasets/philadelphia_complaints/explore?_release=2018-Q3"
        "&date_received__gte=2016-01-01&date_received__lte=2016-12-31&_sort=-date_received"
    )
    doc = page(client, url)
    expected = frame.filter(
        pl.col("date_received").is_between(pl.date(2016, 1, 1), pl.date(2016, 12, 31))
    )
    assert f"{expected.height:,} rows match" in doc.text()
    assert "in release 2018-Q3" in doc.text()
    rows = table_rows(doc.find("table", class_="ob-rows"))
    dates = [r[rows[0].index("date_received")] for r in rows[1:]]
    assert dates == sorted(dates, reverse=True) and dates[0] <= "2016-12-31"
    assert doc.find("input", id="filter-date_received__gte").attrs["value"] == "2016-01-01"
    assert (
        "selected" in doc.find("select", id="filter-release").find("option", value="2018-Q3").attrs
    )


def test_explore_explains_a_bad_filter_instead_of_failing(client: TestClient) -> None:
    doc = page(
        client, "/datasets/seattle_use_of_force/explore?incident_date__gte=last+tuesday", status=400
    )
    alert = doc.find("div", class_="ob-problem").text()
    assert "incident_date__gte" in alert and "last tuesday" in alert and "2024-05-01" in alert
    assert doc.find("input", id="filter-incident_date__gte").attrs["value"] == "last tuesday"
    unknown = page(client, "/datasets/seattle_use_of_force/explore?precinct=East", status=400)
    assert "There is no column 'precinct'" in unknown.find("div", class_="ob-problem").text()
    assert ("precinct", "East") in query_of(
        "?"
        + "&".join(
            f"{i.attrs['name']}={i.attrs['value']}"
            for i in unknown.find_all("input", type="hidden")
        )
    )
    missing_release = page(
        client, "/datasets/seattle_use_of_force/explore?_release=2001-Q1", status=404
    )
    assert "Release 2001-Q1" in missing_release.find("div", class_="ob-problem").text()


def test_explore_says_in_words_when_no_rows_match(client: TestClient) -> None:
    doc = page(client, "/datasets/denver_bias_crimes/explore?_q=zzzz-no-such-text")
    assert "0 rows match" in doc.text()
    message = doc.find("div", class_="ob-no-rows").text()
    assert "No rows match" in message and "“zzzz-no-such-text”" in message
    assert doc.find_all("table", class_="ob-rows") == []


# --- charts ---------------------------------------------------------------------------------


def test_charts_have_captions_and_tables_with_the_same_counts(
    client: TestClient, sample: SamplePortal
) -> None:
    frame = release_frame(sample, "seattle_use_of_force")
    doc = page(client, "/datasets/seattle_use_of_force/charts")
    charts = doc.find_all("section", class_="ob-chart")
    headings = [c.find("h2").text() for c in charts]
    assert headings[0] == "Rows by quarter" and "Rows by type of force" in headings
    by_quarter = table_rows(charts[0].find("table"))[1:]
    quarters = (
        frame.group_by(
            pl.format(
                "{}-Q{}", pl.col("incident_date").dt.year(), pl.col("incident_date").dt.quarter()
            )
        )
        .len()
        .sort("incident_date")
    )
    assert [(r[0], int(r[1].replace(",", ""))) for r in by_quarter] == list(quarters.iter_rows())
    for chart in charts:
        assert chart.find("figcaption").text()
        spec = json.loads(
            html.unescape(chart.find("div", class_="ob-chart__canvas").attrs["data-vega-lite"])
        )
        data = client.get(spec["data"]["url"])
        assert data.status_code == 200 and data.json()["groups"]


def test_charts_follow_the_explore_filters(client: TestClient, sample: SamplePortal) -> None:
    frame = release_frame(sample, "seattle_use_of_force").filter(pl.col("subject_race") == "Asian")
    doc = page(client, "/datasets/seattle_use_of_force/charts?subject_race=Asian")
    first = doc.find("section", class_="ob-chart")
    total = sum(int(r[1].replace(",", "")) for r in table_rows(first.find("table"))[1:])
    assert total == frame.height
    assert (
        "subject_race=Asian" in first.find("div", class_="ob-chart__canvas").attrs["data-vega-lite"]
    )


# --- release diff ---------------------------------------------------------------------------


def test_diff_page_counts_and_pages_the_changed_rows(
    client: TestClient, sample: SamplePortal
) -> None:
    old = release_frame(sample, "philadelphia_complaints", "2018-Q3")
    new = release_frame(sample, "philadelphia_complaints", "2019-Q1")
    added = set(new["complaint_id"]) - set(old["complaint_id"])
    base = "/datasets/philadelphia_complaints/releases/2018-Q3/diff/2019-Q1"
    doc = page(client, base)
    counts = table_rows(doc.find("table", class_="ob-diff-counts"))
    assert counts[1][:2] == [
        f"{len(added):,}",
        f"{len(set(old['complaint_id']) - set(new['complaint_id'])):,}",
    ]
    first_page = table_rows(doc.find("table", class_="ob-rows"))[1:]
    assert len(first_page) == 50 and {r[0] for r in first_page} <= added
    changed = page(client, base + "?change=changed&page=2")
    rows = changed.find("table", class_="ob-rows").find("tbody").find_all("tr")
    assert rows and all(r.find_all("del") and r.find_all("ins") for r in rows)
    assert "district_occurrence" in changed.find("ul", class_="usa-list").text()


def test_diff_page_rejects_an_unknown_kind_of_change(client: TestClient) -> None:
    doc = page(
        client,
        "/datasets/philadelphia_complaints/releases/2018-Q3/diff/2019-Q1?change=everything",
        status=400,
    )
    assert "'everything' is not a kind of change" in doc.text()


def test_withdrawn_release_is_listed_but_not_served(tmp_path: Path) -> None:
    settings = sample_settings(tmp_path / "portal")
    portal = Portal.open(settings)
    source = REAL / "denver" / "BiasMotivatedCrimes.csv"
    for label in ("2024-Q3", "2024-Q4"):
        assert publish(
            portal,
            PublishRequest(path=source, dataset_id="denver", label=label, accept_privacy=True),
        ).release
    withdraw(portal, "denver", "2024-Q3", reason="published from the wrong export")
    with TestClient(portal_app(settings), headers=HTML) as client:
        releases = page(client, "/datasets/denver").find("section", id="releases")
        text = releases.text()
        assert "Release 2024-Q3 Withdrawn" in text and "published from the wrong export" in text
        links = [a.attrs["href"] for a in releases.find_all("a")]
        assert not any("2024-Q3" in href for href in links)
        assert any("_release=2024-Q4" in href for href in links)
        gone = page(client, "/datasets/denver/explore?_release=2024-Q3", status=404)
        assert (
            "Release 2024-Q3 of 'denver' was withdrawn"
            in gone.find("div", class_="ob-problem").text()
        )


# --- errors and safety ----------------------------------------------------------------------


def test_missing_pages_get_a_404_page_in_words(client: TestClient) -> None:
    doc = page(client, "/datasets/no_such_dataset", status=404)
    assert doc.find("h1").text() == "Page not found"
    assert (
        "There is no dataset 'no_such_dataset'" in doc.text()
        and "seattle_use_of_force" in doc.text()
    )
    assert page(client, "/no/such/page", status=404).find("h1").text() == "Page not found"
    assert (
        client.get("/no/such/page", headers={"accept": "application/json"}).json()["error"]["code"]
        == "not_found"
    )


def test_pages_escape_what_publishers_write(tmp_path: Path) -> None:
    settings = sample_settings(tmp_path / "portal")
    demo = tmp_path / "tricky.csv"
    demo.write_text("id,note\n1,<img src=x onerror=alert(1)>\n", encoding="utf-8")
    result = publish(
        Portal.open(settings),
        PublishRequest(
            path=demo,
            dataset_id="tricky",
            label="2024-Q1",
            title="<script>alert('title')</script>",
            description=(
                "Plain *markdown* with <b onclick=alert(1)>raw HTML</b> "
                "and [a link](javascript:alert(1))."
            ),
        ),
    )
    assert result.release is not None
    with TestClient(portal_app(settings), headers=HTML) as client:
        for url in ("/", "/datasets/tricky", "/datasets/tricky/explore"):
            body = client.get(url).text
            assert (
                "<script>alert" not in body
                and "<b onclick" not in body
                and "<img src=x" not in body
            )
            assert 'href="javascript:' not in body
        about = client.get("/datasets/tricky")
        assert "<em>markdown</em>" in about.text and "&lt;script&gt;alert" in about.text
        assert "default-src 'self'" in about.headers["content-security-policy"]


def test_static_assets_are_served_locally(client: TestClient) -> None:
    doc = page(client, "/datasets/seattle_use_of_force/charts")
    sources = [s.attrs["src"] for s in doc.find_all("script") if s.attrs.get("src")]
    sources += [link.attrs["href"] for link in doc.find_all("link", rel="stylesheet")]
    assert any("vega-lite.min.js" in s for s in sources) and any(
        "uswds.min.css" in s for s in sources
    )
    for source in sources:
        assert source.startswith("/static/")
        assert client.get(source).status_code == 200
