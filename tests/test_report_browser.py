"""The transparency report in a real browser: headless Chromium (Debian's package) opens it from
disk with the network off, every chart renders, nothing errors, and a screenshot is kept."""

from __future__ import annotations

from pathlib import Path

from orchestration.report.config import load_report_config
from orchestration.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = PROJECT_ROOT / "artifacts" / "transparency_report.png"


def test_the_report_renders_in_headless_chromium_offline(demo_city, tmp_path):
    # A missing browser is a failure, not a skip: CI installs Debian's chromium (.ci/run).
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    from playwright.sync_api import sync_playwright

    settings, _, _ = demo_city
    index = load_report_config(settings.warehouse_path, env={}).report_dir / "index.html"
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        # a fresh profile for every run, with the network off
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            offline=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
            page.goto(index.as_uri(), wait_until="load")
            charts = page.locator("figure.chart")
            assert charts.count() >= 10
            for i in range(charts.count()):
                chart = charts.nth(i)
                title = chart.locator("h4").inner_text()
                svg = chart.locator("svg").first
                box = svg.bounding_box()
                assert box and box["width"] > 100 and box["height"] > 50, title
                assert chart.locator("svg .mark").count() > 0, f"empty chart: {title}"
                assert len(chart.locator("figcaption").inner_text().strip()) > 40, f"no caption: {title}"
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            context.close()
    assert errors == [], errors
    assert all(u.startswith("file://") for u in requests), [u for u in requests if not u.startswith("file://")]
    assert SCREENSHOT.stat().st_size > 10_000
    print(f"\nscreenshot of the transparency report: {SCREENSHOT}")
