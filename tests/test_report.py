"""The transparency report the refresh wrote for the demo city (and Milwaukee): its content, its
small-cell suppression, its links from each figure to the mart column and the model SQL, its
exports, and that it needs nothing from the network."""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from orchestration.report.config import load_report_config
from orchestration.report.site import build_report
from orchestration.transform.project import dbt_project

from .test_kpis import MIN_CELL, MIN_RESPONDENTS


class Page(HTMLParser):
    """Collects what the tests look at: ids, links, counts, figures and the trust table's rows."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.counts: list[int] = []
        self.suppressed = 0
        self.figures = 0
        self.scripts = 0
        self.rows: list[list[str]] = []
        self.bare_numbers: list[tuple[str, int]] = []  # (column heading, n): whole numbers shown without count_cell
        self._head: list[str] = []
        self._th: list[str] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._cell_counted = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "script":
            self.scripts += 1
        if tag == "figure":
            self.figures += 1
        cls = a.get("class") or ""
        if tag == "table":
            self._head = []
        if tag == "th":
            self._th = []
        if "count" in cls.split():
            self._cell_counted = True
            if "data-count" in a:
                self.counts.append(int(a["data-count"]))
            if "suppressed" in cls.split():
                self.suppressed += 1
        if tag == "tr":
            self._row = []
        if tag == "td" and self._row is not None:
            self._cell = []
            self._cell_counted = False

    def handle_endtag(self, tag):
        if tag == "th" and self._th is not None:
            self._head.append("".join(self._th).strip())
            self._th = None
        if tag == "td" and self._cell is not None and self._row is not None:
            text = "".join(self._cell).strip()
            if not self._cell_counted and re.fullmatch(r"\d[\d,]*", text):
                column = len(self._row)
                heading = self._head[column] if column < len(self._head) else ""
                self.bare_numbers.append((heading, int(text.replace(",", ""))))
            self._row.append(text)
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._th is not None:
            self._th.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def report_dir(demo_city) -> Path:
    """Where the refresh's report asset wrote the site (report/ beside the test warehouse)."""
    settings, _, result = demo_city
    assert result.success
    return load_report_config(settings.warehouse_path, env={}).report_dir


@pytest.fixture(scope="module")
def page(report_dir) -> Page:
    return parse(report_dir / "index.html")


def test_the_refresh_wrote_the_report_with_every_section(report_dir, page, demo_city, demo_truth):
    _, _, result = demo_city
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "serving/transparency_report" in materialized
    html = (report_dir / "index.html").read_text()
    for anchor in (
        "scorecard",
        "service-demand",
        "officer-initiated",
        "divergence-zones",
        "violence",
        "response-times",
        "community-trust",
        "budget",
        "data-quality",
        "how-made",
    ):
        assert anchor in page.ids, anchor
    assert page.figures >= 10
    assert "Demo City" in html and "Milwaukee" in html
    # Milwaukee has no dispatch or arrival times: its response times read "not available".
    section = html[html.index('id="response-times"') :].split("</section>")[0]
    milwaukee = section[section.index("<h3>Milwaukee</h3>") + len("<h3>Milwaukee</h3>") :].split("<h3>")[0]
    assert "not available" in milwaukee and "<figure" not in milwaukee and " min" not in milwaukee
    # and so does its scorecard, KPI by KPI
    scorecard = html[html.index('id="scorecard"') :].split("</section>")[0]
    milwaukee = scorecard[scorecard.index("<h3>Milwaukee</h3>") :]
    for label in ("Median response time", "90th-percentile response time", "Calls reached within"):
        row = milwaukee[milwaukee.index(label) :].split("</tr>")[0]
        assert "not available: the city's extract records no dispatch or arrival times" in row, row
    # the divergence, zones and violence sections read the enforcement marts: the planted
    # divergence beat leads the chart and is a zone, the planted hot block tops the violence list
    planted = demo_truth["planted"]
    divergence = html[html.index('id="divergence-zones"') :].split("</section>")[0]
    assert "<figure" in divergence and f"area {planted['divergence_area']['beat']} had" in divergence
    assert f"<td>{planted['divergence_area']['beat']}</td><td>high untethered contact</td>" in divergence
    violence = html[html.index('id="violence"') :].split("</section>")[0]
    assert "<figure" in violence
    assert f"<tr><td>{planted['violent_hot_spot']['block']}</td>" in violence
    # the data-quality section says which checks ran in this refresh, and where the Data Docs are
    assert re.search(r"\d+ quality checks \(dbt tests and quality gates\) ran in this refresh", html)
    assert "../data_docs/index.html" in page.hrefs


def test_the_officer_hours_caption_says_per_city_how_the_hours_were_had(report_dir, demo_warehouse):
    html = (report_dir / "index.html").read_text()
    section = html[html.index('id="service-demand"') :].split("</section>")[0]

    def city(name: str) -> str:
        return section[section.index(f"<h3>{name}</h3>") :].split("<h3>")[1]

    # Milwaukee's extract has one timestamp per call: every hour is a category default, and it says so
    assert "every call's hours are estimated from its category's default time and units" in city("Milwaukee")
    assert "measured from dispatch to clear" not in city("Milwaukee")
    # the demo city records its times: the caption gives the measured share the mart counts
    measured, calls = demo_warehouse.execute(
        "SELECT sum(calls_with_measured_time), sum(calls) FROM marts.mart_service_demand "
        "WHERE source_profile = 'demo_city_calls'"
    ).fetchone()
    assert 0 < measured < calls
    share = f"{100 * measured / calls:.1f} %"
    assert f"measured from dispatch to clear, times the units sent, for {share} of calls" in city("Demo City")


# Columns of whole numbers that are not counts of people or events (staff in full-time equivalents).
NOT_COUNTS = {"FTE"}
COUNTED = (
    r"calls?|stops?|incidents?|crimes?|offen[cs]es|respondents?|records?|requests?|arrests?|searche?s?|"
    r"people|persons?|residents?|reports?|victims?|shootings?|homicides?"
)
# "N calls" in prose, unless N is a threshold ("fewer than 11 calls", "at least 30 respondents")
PROSE_COUNT = re.compile(
    rf"(?<!fewer than )(?<!at least )(?<!below )(?<!under )(?<![\d.,])(\d{{1,3}}(?:,\d{{3}})*)\s+(?:{COUNTED})\b"
)


def small_counts_outside_tables(html_text: str) -> list[str]:
    """Counts below the threshold shown where count_cell does not write: in the prose ("Of 7
    stops"), in a chart's value labels (an SVG text that is a bare whole number, other than the
    grey axis ticks) and in the marks' tooltips ("2A: 8")."""
    found = []
    for attrs, text in re.findall(r"<text([^>]*)>([^<]*)</text>", html_text):
        if (
            "fill=" not in attrs
            and re.fullmatch(r"\d[\d,]*", text.strip())
            and 0 < int(text.replace(",", "")) < MIN_CELL
        ):
            found.append(f"chart label {text}")
    for title in re.findall(r"<title>([^<]*)</title>", html_text):
        value = re.search(r": (\d[\d,]*)$", title.strip())
        if value and 0 < int(value.group(1).replace(",", "")) < MIN_CELL:
            found.append(f"tooltip {title}")
    prose = re.sub(r"<(svg|table)\b.*?</\1>", " ", html_text, flags=re.S)
    prose = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", prose)))
    for m in PROSE_COUNT.finditer(prose):
        if 0 < int(m.group(1).replace(",", "")) < MIN_CELL:
            found.append(f"prose …{prose[max(0, m.start() - 40) : m.end()]}")
    return found


def test_the_small_count_scan_finds_a_count_in_prose_chart_labels_and_tooltips():
    """The scan below is itself tested on a page that shows small counts in each of those places."""
    bad = (
        "<p>Of <span>7</span> stops in 2025, most ended with a warning.</p>"
        '<svg><text x="4" y="9">2A</text><text x="80" y="9">8</text><rect><title>2B: 9</title></rect>'
        '<text x="4" y="90" fill="#57606a">5</text></svg>'
        "<p>Areas with fewer than 11 calls are not shown; 40 area-wave cells were small.</p>"
        "<table><tr><td>3 calls</td></tr></table>"
    )
    bad += "<svg><circle><title>Mon, 00: 1 team</title></circle></svg>"  # a quantity with its unit is no count
    assert small_counts_outside_tables(bad) == ["chart label 8", "tooltip 2B: 9", "prose … Of 7 stops"]


def test_the_report_never_shows_a_small_count(page, demo_warehouse, report_dir):
    report_html = (report_dir / "index.html").read_text(encoding="utf-8")
    assert page.counts, "the report shows counts"
    small = [n for n in page.counts if 0 < n < MIN_CELL]
    assert small == [], small
    # and no table prints a count around count_cell: every whole number in a cell is read here
    assert len(page.bare_numbers) > 10, "the placing table's zeros and the budget's FTE are read"
    bare = [(h, n) for h, n in page.bare_numbers if 0 < n < MIN_CELL and h not in NOT_COUNTS]
    assert bare == [], bare
    assert page.suppressed > 0, "some cells of the demo city at test scale are suppressed"
    # nor does the prose, a chart's labels or a mark's tooltip
    assert small_counts_outside_tables(report_html) == []
    # every survey cell that is small in the staged data reads "fewer than", with no mean
    few = demo_warehouse.execute(
        "SELECT beat, wave, count(*) FROM staging.stg_survey_responses "
        "WHERE source_profile = 'demo_city_survey' GROUP BY ALL HAVING count(*) < ?",
        [MIN_RESPONDENTS],
    ).fetchall()
    waves = sorted(
        {w for (w,) in demo_warehouse.execute("SELECT DISTINCT wave FROM staging.stg_survey_responses").fetchall()}
    )
    assert few
    table = {r[0]: r for r in page.rows if len(r) == 1 + 2 * len(waves) and re.fullmatch(r"\d[A-E]", r[0] or "")}
    assert table, "the trust-by-area table is in the report"
    for beat, wave, n in few:
        i = 1 + 2 * waves.index(wave)
        assert table[beat][i] == f"fewer than {MIN_RESPONDENTS} respondents", (beat, wave, table[beat])
        assert table[beat][i + 1] == "—"
        assert str(n) not in table[beat][i]
    # and response-time areas below the threshold show no count or statistic
    for row in page.rows:
        if row and row[1:2] == [f"fewer than {MIN_CELL} calls"]:
            assert row[2:4] == ["—", "—"], row


def test_every_figure_links_to_its_mart_column_and_the_model_sql(report_dir, page):
    figures = [h for h in page.hrefs if h.startswith("#how-fig-")]
    assert len(figures) >= 10
    for how in figures:
        assert how[1:] in page.ids, how
        assert how[len("#how-") :] in page.ids, how  # the figure itself
    column_links = [h for h in page.hrefs if h.startswith("marts/") and "#" in h]
    assert column_links
    for link in column_links:
        file, column = link.split("#")
        doc = parse(report_dir / file)
        assert column in doc.ids, link
        text = (report_dir / file).read_text()
        if "Not a dbt model: a Python asset" in text:  # a mart built in Python names its module
            assert re.search(r"Built by a Python asset: orchestration/[\w/]+\.py", text), file
        else:
            assert "dbt_project/models/" in text and "select" in text.lower(), file  # the model's SQL is on the page
    assert "marts/mart_kpi_scorecard.html#value" in page.hrefs


def test_the_report_opens_offline(report_dir, page):
    assert page.scripts == 0
    for ref in page.hrefs + page.srcs:
        assert not re.match(r"^(https?:)?//", ref), ref
    for file in report_dir.rglob("*.html"):
        text = file.read_text()
        assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', ""), file
        assert "https://" not in text, file


def test_the_scorecard_exports_match_the_mart(report_dir, demo_warehouse):
    mart_rows = demo_warehouse.execute("SELECT count(*) FROM marts.mart_kpi_scorecard").fetchone()[0]
    with (report_dir / "scorecard.csv").open() as f:
        rows = list(csv.DictReader(f))
    exported = json.loads((report_dir / "scorecard.json").read_text())
    assert len(rows) == len(exported["rows"]) == mart_rows
    assert {"kpi", "period", "period_grain", "value", "target", "direction", "status", "change_from_prior"} <= set(
        rows[0]
    )
    trust = {(r["period"], r["status"]) for r in rows if r["city"] == "demo_city" and r["kpi"] == "trust_police_score"}
    expected = demo_warehouse.execute(
        "SELECT period, status FROM marts.mart_kpi_scorecard WHERE city = 'demo_city' AND kpi = 'trust_police_score'"
    ).fetchall()
    assert trust == set(expected)
    for r in exported["rows"]:
        if r["base_count"] is not None:
            assert r["base_count"] == 0 or r["base_count"] >= MIN_CELL


def test_a_missing_mart_section_says_not_yet_available(tmp_path, demo_city):
    # A warehouse whose marts are gone but for the scorecard: sections say so instead of drawing empty charts.
    settings, _, _ = demo_city
    copy = tmp_path / "w.duckdb"
    con = duckdb.connect(str(copy))
    con.execute(f"ATTACH '{settings.warehouse_path}' AS src (READ_ONLY)")
    for schema, table in (("marts", "mart_kpi_scorecard"), ("reference", "city_source_profiles")):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"CREATE TABLE {schema}.{table} AS SELECT * FROM src.{schema}.{table}")
    con.execute("DETACH src")
    config = load_report_config(copy, env={})
    result = build_report(con, config, dbt_project.manifest_path)
    con.close()
    html = result.index.read_text()
    assert result.charts == 0 and "not yet available" in html.lower()
    assert "no quality-check results are attached" in html


def test_quarantined_lines_are_reported_with_small_counts_hidden(tmp_path, demo_city):
    # Plant bad lines in a copy of the warehouse: 3 of one kind (a small cell) and 15 of another.
    settings, _, _ = demo_city
    copy = tmp_path / "w.duckdb"
    shutil.copy(settings.warehouse_path, copy)
    con = duckdb.connect(str(copy))
    for error_type, n in (("TOO MANY COLUMNS", 3), ("MISSING REQUIRED", 15)):
        con.execute(
            "INSERT INTO raw.quarantine (batch_id, source, source_profile, source_file, row_number, error_type, "
            "field, reason, record, loaded_at) SELECT 'b', 'calls_for_service', 'demo_city_calls', 'f.csv', "
            "range + 2, ?, 'call_id', 'planted', 'x', now() FROM range(?)",
            [error_type, n],
        )
    config = load_report_config(copy, env={})
    result = build_report(con, config, dbt_project.manifest_path)
    con.close()
    page = parse(result.index)
    # the extract is named in words (its city and kind), not by its profile id
    rows = {r[1]: r[2] for r in page.rows if len(r) == 3 and r[0] == "Demo City calls for service"}
    assert rows == {"TOO MANY COLUMNS": f"fewer than {MIN_CELL}", "MISSING REQUIRED": "15"}
    assert 18 in page.counts and 3 not in page.counts  # the total (18 lines) is shown, the small cell is not
