"""The transparency report on a phone (390 px) and a desktop (1280 px), in the real Chromium: no
sideways scroll, chart text at 11 px or more as rendered, wide tables scrolling inside their own
box, a menu that leaves the heading it jumps to in view, and plain words (no call-type codes,
profile ids, run ids or survey-wave codes; "untethered" only where it is explained; each figure
states what it counts)."""

from __future__ import annotations

import re

import pytest

from orchestration.report.config import load_report_config
from orchestration.settings import PROJECT_ROOT

from .test_report_browser import CHROMIUM, CHROMIUM_ARGS

MIN_CHART_FONT_PX = 11.0
# The planted officer-initiated share of demo-city calls (truth.json) against the share the report
# states: 30,000 calls give a sampling standard error of sqrt(.3 * .7 / 30000) = 0.26 points; 1.1
# points is four of them.
OFFICER_INITIATED_TOLERANCE = 0.011

MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const fonts = [];
  for (const svg of document.querySelectorAll('figure.chart svg')) {
    const box = svg.viewBox.baseVal;
    const scale = svg.getBoundingClientRect().width / box.width;
    for (const t of svg.querySelectorAll('text')) {
      fonts.push({px: parseFloat(getComputedStyle(t).fontSize) * scale,
                  figure: svg.closest('figure').querySelector('h4').innerText, text: t.textContent});
    }
  }
  const overflowing = [];
  for (const table of document.querySelectorAll('table')) {
    if (table.getBoundingClientRect().right <= width + 1) continue;
    const box = table.closest('.scroll');
    const scrolls = box && getComputedStyle(box).overflowX === 'auto' && box.getBoundingClientRect().right <= width + 1;
    if (!scrolls) overflowing.push(table.closest('[id]') ? table.closest('[id]').id : table.outerHTML.slice(0, 80));
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, fonts, overflowing};
}"""


@pytest.fixture(scope="module")
def report_index(demo_city):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    settings, _, _ = demo_city
    return load_report_config(settings.warehouse_path, env={}).report_dir / "index.html"


def _open(p, tmp_path, width: int):
    context = p.chromium.launch_persistent_context(
        str(tmp_path / f"profile-{width}"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        offline=True,
        viewport={"width": width, "height": 844},
    )
    return context, context.new_page()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_report_fits_the_screen_and_its_charts_can_be_read(report_index, tmp_path, width):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context, page = _open(p, tmp_path, width)
        try:
            page.goto(report_index.as_uri(), wait_until="load")
            found = page.evaluate(MEASURE)
            assert found["scrollWidth"] <= found["width"], f"the page scrolls sideways: {found['scrollWidth']}px"
            assert found["overflowing"] == [], "tables wider than the screen outside a scrolling box"
            assert len(found["fonts"]) > 100
            small = [f for f in found["fonts"] if f["px"] < MIN_CHART_FONT_PX]
            assert small == [], small[:5]
            # the menu never covers the heading it jumps to
            nav = page.locator("nav")
            links = nav.locator("a")
            assert links.count() >= 10
            for i in range(links.count()):
                target = links.nth(i).get_attribute("href")
                links.nth(i).click()
                page.wait_for_timeout(50)
                heading = page.locator(f"{target} h2").bounding_box()
                menu = nav.bounding_box()
                covered_to = menu["y"] + menu["height"] if menu["y"] <= 0.5 and menu["y"] + menu["height"] > 0 else 0
                assert heading["y"] >= covered_to - 0.5, (target, heading, menu)
                assert heading["y"] < 844, (target, heading)
            # the menu takes a small part of a phone's screen when it stays at the top
            if nav.evaluate("n => getComputedStyle(n).position") == "sticky":
                assert nav.bounding_box()["height"] <= 0.08 * 844
            page.screenshot(path=str(PROJECT_ROOT / "artifacts" / f"transparency_report_{width}px.png"), full_page=True)
        finally:
            context.close()


def test_the_report_speaks_plain_words(report_index, demo_city, demo_warehouse, demo_truth, tmp_path):
    from playwright.sync_api import sync_playwright

    _, _, result = demo_city
    profiles = [
        p for (p,) in demo_warehouse.execute("SELECT source_profile FROM reference.city_source_profiles").fetchall()
    ]
    codes = [t["code"] for t in demo_truth["planted"]["call_types"]]
    described = dict(
        demo_warehouse.execute(
            "SELECT call_type, rationale FROM reference.call_type_taxonomy WHERE source_profile = 'demo_city_calls'"
        ).fetchall()
    )
    with sync_playwright() as p:
        context, page = _open(p, tmp_path, 390)
        try:
            page.goto(report_index.as_uri(), wait_until="load")
            text = page.locator("body").inner_text()
            sections = {
                s.get_attribute("id"): s.inner_text() for s in page.locator("section").all() if s.get_attribute("id")
            }
            figures = page.locator("figure.chart").all()
            populations = [
                f.locator(".population").inner_text() if f.locator(".population").count() else "" for f in figures
            ]
            events = page.locator("figure.chart", has_text="Self-initiated events by type - Demo City")
            bar_labels = [t.text_content() for t in events.locator("svg text").all()]
            calls = page.locator("figure.chart", has_text="What calls are about - Demo City").locator(".population")
            calls_population = calls.inner_text()
        finally:
            context.close()
    assert result.run_id not in text
    for profile in profiles:
        assert profile not in text, profile
    for code in codes:
        assert not re.search(rf"\b{re.escape(code)}\b", text), code
    assert not re.search(r"\b\d{4}-W\d\b", text), "a survey wave by its code"
    assert "taxonomy" not in text.lower()
    for anchor, words in sections.items():
        prose = re.sub(r"\S*_\S*", "", words)  # column names (how_made's list) are the analysts' words
        if "untethered" in prose.lower():
            assert "at most a warning" in words, f"'untethered' unexplained in section {anchor}"
    # the officer-initiated events read as the taxonomy describes them, not as their codes
    for code in ("TSTOP", "SSTOP", "BCHK", "PATROL"):
        assert described[code].split(";")[0] in bar_labels, (code, bar_labels)
    # every figure says what it counts; the calls figure gives the officer-initiated share planted
    assert all(p.startswith("Counted:") for p in populations), populations
    share = float(re.search(r"of which ([\d.]+) % were started by an officer", calls_population).group(1)) / 100
    planted = demo_truth["planted"]["call_shares"]["officer_initiated"]
    assert share == pytest.approx(planted, abs=OFFICER_INITIATED_TOLERANCE)


@pytest.mark.parametrize("width", [390, 1280])
def test_every_map_has_a_legend_a_text_alternative_and_the_planted_beats(
    report_index, demo_truth, demo_warehouse, tmp_path, width
):
    from playwright.sync_api import sync_playwright

    planted = demo_truth["planted"]
    with sync_playwright() as p:
        context, page = _open(p, tmp_path, width)
        try:
            page.goto(report_index.as_uri(), wait_until="load")
            maps = page.locator("#maps figure.chart")
            assert maps.count() == 4, "divergence, zones, violent crime per resident, response times"
            found = {}
            for i in range(maps.count()):
                figure = maps.nth(i)
                title = figure.locator("h4").inner_text()
                assert figure.locator("svg g.legend rect").count() >= 2, f"no legend: {title}"
                assert figure.locator("svg path.area").count() == 20, title
                rows = figure.locator("details.text-alternative tbody tr")
                assert rows.count() == 20, f"no text alternative: {title}"
                found[title.split(",")[0]] = {
                    rows.nth(k).locator("td").nth(0).text_content(): rows.nth(k).locator("td").nth(1).text_content()
                    for k in range(rows.count())
                }
                box = figure.locator("svg").bounding_box()
                assert box["width"] <= width, title
                if title.startswith("Map: opportunity zones"):
                    shaded = dict(t.split(": ", 1) for t in figure.locator("svg path.area title").all_text_contents())
                    legend = figure.locator("svg g.legend text").all_text_contents()
        finally:
            context.close()
    divergence = found["Map: stops against reported crime"]
    beat = planted["divergence_area"]["beat"]
    assert float(divergence[beat].rstrip("x")) == max(float(v.rstrip("x")) for v in divergence.values() if v[-1] == "x")
    zones = found["Map: opportunity zones"]
    assert zones[beat] == "high untethered contact"
    # the map shades each zone by why it is one and how strongly: the band is the mart's, per beat
    bands = dict(
        demo_warehouse.execute(
            "SELECT area_id, zone_strength_band FROM marts.mart_opportunity_zones WHERE city = 'demo_city' "
            "AND period_type = 'year' AND zone_flag <> 'none' "
            "AND period_start = (SELECT max(period_start) FROM marts.mart_opportunity_zones "
            "WHERE city = 'demo_city' AND period_type = 'year')"
        ).fetchall()
    )
    assert beat in bands
    for area, band in bands.items():
        assert shaded[area] == f"{zones[area]}, {band}", area
        assert shaded[area] in legend
    assert sum(v == "not a zone" for v in shaded.values()) == 20 - len(bands)
    violent = found["Map: violent crime per resident"]
    hot = planted["violent_hot_spot"]["beat"]
    assert float(violent[hot]) == max(float(v) for v in violent.values() if v[0].isdigit())
