"""``tokencensus serve``: the dashboard over HTTP, with a real client, on a small simulated lake.

Numbers under each filter are checked against a direct computation over the simulated events
(pyarrow, not the engine), so the filters are tested, not restated.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tokencensus import settings
from tokencensus.catalog.models import load_catalog
from tokencensus.classify.labels import LABEL_SCHEMA
from tokencensus.cli import cli
from tokencensus.dashboard import Dashboard, DashboardServer, Filters, _form_html, make_server, parse_filters
from tokencensus.lake import Lake
from tokencensus.simulator import SimConfig, simulate

K = 5
"""The privacy floor of these tests: low, so that filtered views of a tiny lake still publish."""
START, END = date(2025, 6, 16), date(2025, 7, 6)  # weeks 3 to 5 of the eight simulated


def build_lake(root: Path, *, requests: int = 4_000, users: int = 400) -> tuple[Lake, pa.Table]:
    """Eight simulated weeks in a lake, with classifier labels for every third request."""
    sim = simulate(SimConfig(requests=requests, users=users, weeks=8, seed=5))
    lake = Lake(root)
    lake.append(sim.events, "sim")
    cats = sim.categories.take(list(range(0, sim.categories.num_rows, 3)))
    n = cats.num_rows
    labels = pa.table(
        {
            "request_id": cats["request_id"],
            "language": ["en"] * n,
            "category": cats["category"],
            "subcategory": [""] * n,
            "confidence": [0.9] * n,
            "classifier": ["default"] * n,
        },
        schema=LABEL_SCHEMA,
    )
    (lake.root / "labels").mkdir()
    pq.write_table(labels, lake.root / "labels" / "part-0.parquet")
    return lake, sim.events


@pytest.fixture(scope="module")
def sim_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, pa.Table]:
    return build_lake(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def server(sim_lake: tuple[Lake, pa.Table]) -> Iterator[DashboardServer]:
    dashboard = Dashboard.open(sim_lake[0], min_users=K)
    srv = make_server(dashboard, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    dashboard.close()


def get(srv: DashboardServer, path: str) -> tuple[int, str, str]:
    """GET ``path``: (status, content type, body), errors included."""
    try:
        with urllib.request.urlopen(srv.url.rstrip("/") + path, timeout=120) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def weekly_tokens(events: pa.Table) -> dict[str, int]:
    """Tokens per Monday-start UTC week, computed directly with pyarrow."""
    days = pc.cast(events["ts"], pa.date32()).to_pylist()
    tokens = pc.add(events["input_tokens"], events["output_tokens"]).to_pylist()
    out: dict[str, int] = {}
    for day, n in zip(days, tokens, strict=True):
        week = date.fromordinal(day.toordinal() - day.weekday()).isoformat()
        out[week] = out.get(week, 0) + n
    return out


def report_json(srv: DashboardServer, query: str) -> dict:
    status, ctype, body = get(srv, f"/api/report.json?{query}")
    assert status == 200, body
    assert ctype.startswith("application/json"), body
    return json.loads(body)


def test_binds_loopback_by_default(server: DashboardServer) -> None:
    assert settings.HOST.default == "127.0.0.1"
    assert server.server_address[0] == "127.0.0.1"
    assert server.url.startswith("http://127.0.0.1:")


def test_dashboard_page_has_the_charts_and_the_form(server: DashboardServer) -> None:
    status, ctype, page = get(server, "/")
    assert status == 200
    assert ctype == "text/html; charset=utf-8"
    charts = re.findall(r'<div class="chart" id="chart-(\w+)"', page)
    specs = re.findall(r'<script type="application/json" id="spec-(\w+)" data-chart="chart-\w+"', page)
    assert charts == specs
    assert len(charts) >= 8
    assert '<form class="tc-filters" method="get" action="/"' in page
    assert '<option value="US">US</option>' in page  # choices come from the data
    assert 'name="start" value="" min="2025-06-02" max="2025-07-27"' in page


def test_date_filter_keeps_only_weeks_in_range(server: DashboardServer, sim_lake) -> None:
    _, events = sim_lake
    status, ctype, body = get(server, f"/figures/volume.csv?start={START}&end={END}")
    assert status == 200
    assert ctype == "text/csv; charset=utf-8"
    published = rows(body)
    assert [r["week"] for r in published] == ["2025-06-16", "2025-06-23", "2025-06-30"]
    expected = weekly_tokens(events)
    assert all(int(r["tokens"]) == expected[r["week"]] for r in published)
    # the whole lake has all eight weeks
    assert len(rows(get(server, "/figures/volume.csv")[2])) == 8

    days = pc.cast(events["ts"], pa.date32())
    in_range = pc.and_(pc.greater_equal(days, pa.scalar(START)), pc.less_equal(days, pa.scalar(END)))
    meta = report_json(server, f"start={START}&end={END}")["meta"]
    assert meta["requests"] == pc.sum(events.filter(in_range)["requests"]).as_py()
    assert START.isoformat() <= meta["period_start"] <= meta["period_end"] <= END.isoformat()


def test_country_filter_changes_the_totals(server: DashboardServer, sim_lake) -> None:
    _, events = sim_lake
    us = events.filter(pc.equal(events["country"], "US"))
    doc = report_json(server, "country=US")
    assert doc["filters"]["country"] == ["US"]
    assert doc["meta"]["requests"] == pc.sum(us["requests"]).as_py() < pc.sum(events["requests"]).as_py()
    volume = rows(get(server, "/figures/volume.csv?country=US")[2])
    expected = weekly_tokens(us)
    published = [r for r in volume if r["suppressed"] == "false"]
    assert published
    assert all(int(r["tokens"]) == expected[r["week"]] for r in published)
    # lower case is the same filter: served from the cache, not computed again
    computed = server.dashboard.computed
    assert report_json(server, "country=us")["meta"] == doc["meta"]
    assert server.dashboard.computed == computed


def test_author_filter(server: DashboardServer, sim_lake) -> None:
    _, events = sim_lake
    catalog = load_catalog().table
    author_of = dict(zip(catalog["slug"].to_pylist(), catalog["author"].to_pylist(), strict=True))
    openai = [author_of.get(m) == "openai" for m in events["model"].to_pylist()]
    doc = report_json(server, "author=openai")
    assert doc["meta"]["requests"] == pc.sum(events.filter(pa.array(openai))["requests"]).as_py()
    top = [r for r in rows(get(server, "/figures/top_models.csv?author=openai")[2]) if r["model"] != "Other"]
    assert top
    assert {r["author"] for r in top} == {"openai"}


def test_segment_filter(server: DashboardServer, sim_lake) -> None:
    _, events = sim_lake
    catalog = load_catalog().table
    flags = zip(catalog["slug"].to_pylist(), catalog["open_weights"].to_pylist(), strict=True)
    closed = {slug for slug, open_weights in flags if open_weights is False}
    keep = pa.array([m in closed for m in events["model"].to_pylist()])
    segments = {r["segment"] for r in rows(get(server, "/figures/share_open.csv?segment=Proprietary")[2])}
    assert segments == {"Closed"}
    meta = report_json(server, "segment=Proprietary")["meta"]
    assert meta["requests"] == pc.sum(events.filter(keep)["requests"]).as_py()


def test_filters_parse_and_normalize(server: DashboardServer) -> None:
    choices = server.dashboard.choices
    filters = parse_filters("segment=Proprietary&segment=Chinese+open&country=us&author=&start=", choices)
    assert filters == Filters(segments=("Chinese open", "Proprietary"), countries=("US",))
    assert filters.query() == "segment=Chinese+open&segment=Proprietary&country=US"
    assert parse_filters(filters.query(), choices) == filters


def test_csv_links_keep_the_filters(server: DashboardServer) -> None:
    page = get(server, "/?country=US")[2]
    assert 'href="figures/volume.csv?country=US"' in page
    assert '<option value="US" selected>US</option>' in page
    page = get(server, f"/?start={START}&end={END}")[2]
    assert f'href="figures/volume.csv?start={START}&amp;end={END}"' in page


@dataclass
class Node:
    """An element of a parsed page: its tag, attributes and children (elements and text)."""

    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, match: Callable[[Node], bool]) -> list[Node]:
        """Every element under this one (depth first, in document order) that ``match`` accepts."""
        found = []
        for child in self.elements():
            found += [child] if match(child) else []
            found += child.find_all(match)
        return found


class _TreeBuilder(HTMLParser):
    VOID = frozenset({"meta", "input", "br", "img", "link", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [Node("#document")]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(page: str) -> Node:
    """``page`` as a tree (html.parser); every element must be closed where it should be."""
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    assert len(builder.stack) == 1, f"<{builder.stack[-1].tag}> is never closed"
    return builder.stack[0]


def head_and_body(page: Node) -> tuple[Node, Node]:
    (html,) = page.elements()
    head, body = html.elements()
    assert (html.tag, head.tag, body.tag) == ("html", "head", "body")
    return head, body


def csv_links(page: Node) -> list[str]:
    return [str(a.attrs["href"]) for a in page.find_all(lambda n: n.tag == "a" and "download" in n.attrs)]


def test_dashboard_page_is_the_report_template_with_its_blocks_filled(server: DashboardServer) -> None:
    """dashboard.html.j2 extends report.html.j2: the style last in the head, the form first in the
    body before the report's <main>, and each figure's CSV link asking for the view's filters."""
    for query, suffix in (
        ("", ""),
        ("country=US", "?country=US"),
        ("segment=Chinese+open", "?segment=Chinese+open"),
    ):
        page = parse_html(get(server, f"/?{query}")[2])
        head, body = head_and_body(page)
        styles = [e for e in head.elements() if e.tag == "style"]
        assert len(styles) == 2
        assert ".tc-filters" not in styles[0].text()  # the report's own
        assert styles[1].text().lstrip().startswith(".tc-filters")  # the dashboard's, after it
        assert head.elements()[-1] is styles[1]
        form, main = body.elements()[:2]
        assert (form.tag, form.attrs["class"], main.tag) == ("form", "tc-filters", "main")
        assert len(page.find_all(lambda n: n.tag == "form")) == 1
        assert not main.find_all(lambda n: "tc-filters" in str(n.attrs.get("class")))
        json_link = form.find_all(lambda n: n.tag == "a" and "api" in str(n.attrs["href"]))
        assert [a.attrs["href"] for a in json_link] == [f"/api/report.json{suffix}"]
        figures = report_json(server, query)["figures"]
        assert figures
        assert sorted(csv_links(main)) == sorted(f"figures/{fig['id']}.csv{suffix}" for fig in figures)


def test_dashboard_page_is_the_report_page_plus_its_blocks(server: DashboardServer) -> None:
    """Take the form, the dashboard's style and the CSV links' query away and what is left is the
    report page for the same view, element for element."""
    from tokencensus.report import charts, render

    filters = Filters(countries=("US",))
    snap = server.dashboard.snapshot(filters)
    assert snap.view is not None
    specs = {fig.id: charts.chart_spec(fig) for fig in snap.view.figures}
    report = parse_html(render.render_html(snap.view, specs, render.javascript_bundle()))
    dashboard = parse_html(server.dashboard.page(filters))
    head, body = head_and_body(dashboard)
    assert head.elements()[-1].tag == "style"
    head.children.remove(head.elements()[-1])
    assert body.elements()[0].tag == "form"
    body.children.remove(body.elements()[0])
    for link in dashboard.find_all(lambda n: "download" in n.attrs):
        href = str(link.attrs["href"])
        assert href.endswith("?country=US")
        link.attrs["href"] = href.removesuffix("?country=US")

    def elements_only(node: Node) -> Node:  # whitespace between the blocks may differ; nothing else
        kids = [elements_only(c) if isinstance(c, Node) else c for c in node.children]
        return Node(node.tag, node.attrs, [c for c in kids if isinstance(c, Node) or c.strip()])

    assert elements_only(dashboard) == elements_only(report)


def test_the_written_report_has_no_dashboard_markup(sim_lake, tmp_path: Path) -> None:
    """The blocks the dashboard fills stay empty in report.html: no form, no dashboard style, and CSV
    links to the files written beside it."""
    from tokencensus.study import Study

    out = Study(sim_lake[0], min_users=K).report(tmp_path)
    assert out.html is not None
    text = out.html.read_text(encoding="utf-8")
    assert "tc-filters" not in text
    assert "/api/report.json" not in text
    page = parse_html(text)
    head, body = head_and_body(page)
    assert [e.tag for e in head.elements()].count("style") == 1
    assert body.elements()[0].tag == "main"
    assert not page.find_all(lambda n: n.tag in ("form", "input", "select"))
    links = csv_links(page)
    assert sorted(links) == sorted(f"figures/{p.name}" for p in out.csvs)
    assert all((tmp_path / link).is_file() for link in links)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("start=2025-13-01", "start must be a date"),
        ("end=yesterday", "end must be a date"),
        ("start=2025-07-01&end=2025-06-01", "is after end"),
        ("start=2025-06-02&start=2025-06-09", "give it once"),
        ("author=nobody", "author 'nobody' is not one"),
        ("segment=Open", "segment 'Open' is not one"),
        ("country=ZZ", "country 'ZZ' is not one"),
        ("colour=red", "unknown parameter 'colour'"),
    ],
)
def test_bad_parameters_are_400_with_a_message(server: DashboardServer, query: str, says: str) -> None:
    for path in ("/", "/figures/volume.csv", "/api/report.json"):
        status, ctype, body = get(server, f"{path}?{query}")
        assert status == 400
        assert ctype == "text/plain; charset=utf-8"
        assert says in body
        assert "Traceback" not in body


def test_rare_countries_are_not_offered(server: DashboardServer, sim_lake) -> None:
    """A country with fewer than k users is refused exactly like one with no users at all."""
    _, events = sim_lake
    users: dict[str, set[str]] = {}
    for country, user in zip(events["country"].to_pylist(), events["user_id"].to_pylist(), strict=True):
        if country and user:
            users.setdefault(country, set()).add(user)
    rare = sorted(c for c, u in users.items() if len(u) < K)
    assert rare, "the fixture should have a country below the floor"
    assert set(server.dashboard.choices.countries) == {c for c, u in users.items() if len(u) >= K}
    status, _, body = get(server, f"/?country={rare[0]}")
    assert status == 400
    assert "is not one the dashboard offers" in body


def test_a_view_below_the_floor_shows_nothing(server: DashboardServer) -> None:
    country = server.dashboard.choices.countries[0]
    query = f"start=2025-07-27&end=2025-07-27&country={country}&segment=Chinese+open"
    status, _, page = get(server, f"/?{query}")
    assert status == 200
    assert f"Fewer than {K} distinct users match these filters" in page
    assert 'class="chart"' not in page
    assert '<form class="tc-filters"' in page
    assert get(server, f"/figures/volume.csv?{query}")[0] == 404
    assert report_json(server, query)["figures"] == []


def test_unknown_routes_are_404(server: DashboardServer) -> None:
    assert get(server, "/nope")[0] == 404
    assert get(server, "/figures/no_such_figure.csv")[0] == 404
    assert get(server, "/figures/../report.html")[0] == 404
    assert get(server, "/healthz")[:3] == (200, "text/plain; charset=utf-8", "ok\n")


def test_requests_to_another_host_name_are_refused(server: DashboardServer) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the dashboard."""
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    conn.request("GET", "/healthz", headers={"Host": "evil.example"})
    response = conn.getresponse()
    assert response.status == 400
    assert b"loopback" in response.read()
    conn.request("GET", "/healthz", headers={"Host": f"localhost:{server.server_address[1]}"})
    assert conn.getresponse().status == 200
    conn.close()


def test_form_escapes_names_from_the_data() -> None:
    hostile = '"><script>alert(1)</script>'
    choices = SimpleNamespace(
        first_day=date(2025, 6, 2), last_day=date(2025, 6, 8), authors=(hostile,), countries=(), segments=()
    )
    form = _form_html(SimpleNamespace(choices=choices, min_users=K), Filters(authors=(hostile,)))  # type: ignore[arg-type]
    assert "<script>" not in form
    assert "&lt;script&gt;" in form
    assert "&#34;&gt;" in form


def test_serve_help_lists_the_options() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--lake", "--backend", "--min-users", "--top-n", "--host", "--port"):
        assert option in result.output
    assert "127.0.0.1" in result.output
    assert "8765" in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals to a child process")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cli_prints_the_url_and_stops_gracefully(sim_lake, stop: signal.Signals) -> None:
    lake, _ = sim_lake
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokencensus", "serve", "--lake", str(lake.root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.match(r"Dashboard: (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)", line)
        assert match, line + proc.stderr.read() if proc.stderr else line
        with urllib.request.urlopen(match.group(1) + "healthz", timeout=30) as response:
            assert response.read() == b"ok\n"
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err


def test_idle_connections_time_out_and_too_many_are_refused(
    sim_lake: tuple[Lake, pa.Table], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle connections cannot pile up: each is closed after the socket timeout, and past the
    connection cap a new one is answered 503 at once (the server keeps serving)."""
    import socket

    from tokencensus import dashboard as serve_module

    monkeypatch.setattr(serve_module._Handler, "timeout", 0.5)
    monkeypatch.setattr(serve_module, "MAX_CONNECTIONS", 2)
    dashboard = Dashboard.open(sim_lake[0], min_users=K)
    srv = make_server(dashboard, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    host, port = str(srv.server_address[0]), int(srv.server_address[1])
    try:
        idle = [socket.create_connection((host, port), timeout=5) for _ in range(2)]
        time.sleep(0.2)  # both are being served (and send nothing)
        extra = socket.create_connection((host, port), timeout=5)
        assert extra.recv(100).startswith(b"HTTP/1.1 503")
        extra.close()
        for conn in idle:  # the server hangs up on idle connections after its timeout
            assert conn.recv(100) == b""
            conn.close()
        assert get(srv, "/healthz")[0] == 200  # slots are free again
    finally:
        srv.shutdown()
        srv.server_close()
        dashboard.close()
