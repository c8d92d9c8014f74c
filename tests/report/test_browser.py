"""The report and the dashboard in a real browser: headless Chromium driven by Playwright.

Every chart must draw (an SVG or canvas with a size), with no console error, no page error and no
request leaving the page (the report is opened from file://; every request the page makes is
intercepted and only the page itself may load). A full-page screenshot is saved in pytest's tmp
directory. The browser is the system's Chromium (Debian's ``chromium`` package; ``.ci/run`` installs
it), never one Playwright downloads: ``TOKENCENSUS_CHROMIUM`` overrides the path.

Locally the tests skip without Playwright or Chromium; in CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.test_dashboard import K, build_lake

CHROMIUM = os.environ.get("TOKENCENSUS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
RENDER_TIMEOUT_MS = 60_000

# Every .chart holds a drawn <svg>/<canvas> with a size, or the renderer's error text.
ALL_DRAWN = """() => [...document.querySelectorAll("div.chart")].every((chart) => {
  const drawn = chart.querySelector("svg, canvas");
  const failed = chart.textContent.includes("could not be drawn");
  return (drawn && drawn.getBoundingClientRect().width > 0) || failed;
})"""
CHART_STATE = """() => [...document.querySelectorAll("div.chart")].map((chart) => {
  const drawn = chart.querySelector("svg, canvas");
  const box = drawn ? drawn.getBoundingClientRect() : null;
  return {id: chart.id, tag: drawn ? drawn.tagName.toLowerCase() : null,
          width: box ? box.width : 0, height: box ? box.height : 0,
          marks: chart.querySelectorAll("svg .role-mark > *, canvas").length, text: chart.textContent};
})"""


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} in CI; .ci/run installs Debian's chromium and the test extra (playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory):
    lake, _ = build_lake(tmp_path_factory.mktemp("lake"))
    return lake


@pytest.fixture(scope="module")
def report(lake, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tokencensus.study import Study

    out = Study(lake, min_users=K).report(tmp_path_factory.mktemp("report"))
    assert out.html is not None
    return out.html


class Watch:
    """A page with every request intercepted (only ``allowed`` load) and every error recorded."""

    def __init__(self, browser: Any, allowed: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("websocket", lambda ws: self.blocked.append(ws.url))
        self.allowed = allowed

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or self.allowed(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location})")

    def charts(self) -> list[dict[str, Any]]:
        """Wait until every chart drew, then describe each."""
        self.page.wait_for_function(ALL_DRAWN, timeout=RENDER_TIMEOUT_MS)
        return self.page.evaluate(CHART_STATE)

    def close(self) -> None:
        self.context.close()


def assert_all_charts_drawn(watch: Watch, minimum: int) -> list[dict[str, Any]]:
    charts = watch.charts()
    n_specs = watch.page.locator('script[type="application/json"][data-chart]').count()
    assert len(charts) == n_specs >= minimum, f"{len(charts)} charts for {n_specs} specs"
    for chart in charts:
        assert chart["tag"] in ("svg", "canvas"), f"{chart['id']} did not draw: {chart['text'][:200]}"
        assert chart["width"] > 0, chart
        assert chart["height"] > 0, chart
        assert chart["marks"] > 0, f"{chart['id']} drew no marks"
    return charts


def test_every_chart_renders_offline(browser: Any, report: Path, tmp_path: Path) -> None:
    url = report.resolve().as_uri()
    watch = Watch(browser, allowed=lambda u: u == url)
    try:
        watch.page.goto(url, wait_until="load")
        assert_all_charts_drawn(watch, minimum=8)
        shot = tmp_path / "report.png"
        watch.page.screenshot(path=str(shot), full_page=True)
        assert watch.blocked == [], f"requests left the page: {watch.blocked}"
        assert watch.errors == [], "\n".join(watch.errors)
    finally:
        watch.close()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280
    assert height > 900


def test_hovering_a_mark_shows_its_tooltip(browser: Any, report: Path) -> None:
    url = report.resolve().as_uri()
    watch = Watch(browser, allowed=lambda u: u == url)
    try:
        watch.page.goto(url, wait_until="load")
        watch.charts()
        bars = watch.page.locator("div.chart svg g.mark-rect path")
        if bars.count() == 0:
            pytest.skip("no bar chart in the report to hover")
        bar = bars.first
        bar.scroll_into_view_if_needed()
        bar.hover()
        tooltip = watch.page.locator("#vg-tooltip-element.visible")
        tooltip.wait_for(state="visible", timeout=5_000)
        assert tooltip.inner_text().strip()
        assert watch.errors == [], "\n".join(watch.errors)
    finally:
        watch.close()


@pytest.fixture(scope="module")
def dashboard_url(lake) -> Iterator[str]:
    from tokencensus.dashboard import Dashboard, make_server

    dashboard = Dashboard.open(lake, min_users=K)
    server = make_server(dashboard, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    dashboard.close()


def test_dashboard_renders_and_filters_in_the_browser(
    browser: Any, dashboard_url: str, tmp_path: Path
) -> None:
    """Same charts through `tokencensus serve` (its Content-Security-Policy included); the form works."""
    watch = Watch(browser, allowed=lambda u: u.startswith(dashboard_url))
    try:
        watch.page.goto(dashboard_url, wait_until="load")
        before = len(assert_all_charts_drawn(watch, minimum=8))
        watch.page.select_option("select[name=country]", "US")
        with watch.page.expect_navigation():
            watch.page.click(".tc-filters button[type=submit]")
        assert "country=US" in watch.page.url
        assert watch.page.locator("select[name=country] option[selected]").inner_text() == "US"
        assert len(assert_all_charts_drawn(watch, minimum=1)) <= before
        watch.page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        assert watch.blocked == [], f"requests left the page: {watch.blocked}"
        assert watch.errors == [], "\n".join(watch.errors)
    finally:
        watch.close()
