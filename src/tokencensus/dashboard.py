"""``tokencensus serve``: a local dashboard that re-runs the report's analyses under filters.

The lake is opened once; each distinct set of filters (date range, model author, segment, country,
from the query string) filters the enriched events, runs the same compute → view → charts → render
pipeline as ``tokencensus report``, and serves that page with a filter form on top: the page is
``dashboard.html.j2``, which extends the report's template and fills its blocks (the form, its style,
the filters on each CSV link). Routes:

* ``/``                      the report for the filters in the query string, with the filter form
* ``/figures/<id>.csv``      one figure's CSV for the same filters (what the report's links point to)
* ``/api/report.json``       the report as JSON (``report.json``'s content plus the filters)
* ``/healthz``               ``ok``

Privacy: the floor applies to every view exactly as in the written report, and a view whose
population has fewer than ``min_users`` distinct users shows nothing at all (its summary would
describe a handful of users). The form only offers authors and countries with at least that many
users, and names outside the offered ones are refused with the same message whether or not they
exist. Filtering still lets a viewer difference overlapping views, so the dashboard is meant for the
data owner on this machine: it binds 127.0.0.1 by default, answers only requests addressed to a
loopback name there (no DNS rebinding), and warns when asked to listen elsewhere. Publish the report,
not the dashboard.

The standard library serves it (:class:`http.server.ThreadingHTTPServer`; docs/dashboard.md says why
not Werkzeug): requests run in threads, computing is serialized on one lock (one engine connection),
and results are kept in a small LRU cache per normalized filter set.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import signal
import socket
import sys
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import ibis.expr.types as ir

from tokencensus import settings
from tokencensus.definitions import MIN_USERS, OPEN_SEGMENTS, ORIGIN_SEGMENTS
from tokencensus.engine import Tables, on_days, open_lake
from tokencensus.errors import ConfigError, TokencensusError
from tokencensus.lake import Lake

if TYPE_CHECKING:
    from tokencensus.report.data import ReportView

SEGMENTS: tuple[str, ...] = tuple(dict.fromkeys(OPEN_SEGMENTS + ORIGIN_SEGMENTS))
"""Values of ``segment=``: an open-weights segment or an origin segment of the enriched events."""
PARAMETERS = ("start", "end", "author", "segment", "country")
"""Query parameters of the dashboard's routes."""
CACHE_SIZE = 16
"""Computed views kept (each holds its rendered page, ~2 MB)."""
DEFAULT_HOST = settings.HOST.default
DEFAULT_PORT = settings.PORT.default
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

Log = Callable[[str], object]


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Choices:
    """What the filters may take, read from the data once at start-up.

    Only authors and countries with at least ``min_users`` distinct users are offered: the list
    itself must not reveal that some country sent a request or two.
    """

    first_day: date
    last_day: date
    authors: tuple[str, ...]
    countries: tuple[str, ...]
    segments: tuple[str, ...] = SEGMENTS


@dataclass(frozen=True)
class Filters:
    """One normalized filter set: hashable (the cache key), sorted, without duplicates."""

    start: date | None = None
    end: date | None = None
    authors: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    def query(self) -> str:
        """The canonical query string of these filters ('' when there are none)."""
        pairs: list[tuple[str, str]] = []
        if self.start:
            pairs.append(("start", self.start.isoformat()))
        if self.end:
            pairs.append(("end", self.end.isoformat()))
        pairs += [("author", a) for a in self.authors]
        pairs += [("segment", s) for s in self.segments]
        pairs += [("country", c) for c in self.countries]
        return urlencode(pairs)

    def describe(self) -> str:
        """These filters in words, for the report's source line."""
        parts = []
        if self.start or self.end:
            start = self.start.isoformat() if self.start else "start"
            end = self.end.isoformat() if self.end else "end"
            parts.append(f"{start} to {end}")
        for name, values in (
            ("author", self.authors),
            ("segment", self.segments),
            ("country", self.countries),
        ):
            if values:
                parts.append(f"{name} {' or '.join(values)}")
        return "; ".join(parts) if parts else "no filters"

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "author": list(self.authors),
            "segment": list(self.segments),
            "country": list(self.countries),
        }


def parse_filters(query: str, choices: Choices) -> Filters:
    """Filters from a query string; :class:`ConfigError` names the parameter and what it accepts.

    Empty values mean "no filter" (the form's "All"); author, segment and country may repeat (any of
    them matches); start and end are ISO dates, inclusive, on the UTC day of the request.
    """
    try:
        params = parse_qs(query, keep_blank_values=True, strict_parsing=False, max_num_fields=100)
    except ValueError as exc:
        raise ConfigError(f"cannot read the query string: {exc}") from None
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ConfigError(f"unknown parameter {unknown[0]!r}; the dashboard takes {', '.join(PARAMETERS)}")
    values = {name: [v.strip() for v in params.get(name, []) if v.strip()] for name in PARAMETERS}
    start = _one_date(values["start"], "start")
    end = _one_date(values["end"], "end")
    if start and end and start > end:
        raise ConfigError(f"start {start.isoformat()} is after end {end.isoformat()}")
    authors = _members(values["author"], choices.authors, "author")
    segments = _members(values["segment"], choices.segments, "segment")
    countries = _members([c.upper() for c in values["country"]], choices.countries, "country")
    return Filters(start=start, end=end, authors=authors, segments=segments, countries=countries)


def _one_date(values: list[str], name: str) -> date | None:
    if not values:
        return None
    if len(values) > 1:
        raise ConfigError(f"{name} is given {len(values)} times; give it once")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", values[0]):
        raise ConfigError(f"{name} must be a date written YYYY-MM-DD, not {values[0]!r}")
    try:
        return date.fromisoformat(values[0])
    except ValueError:
        raise ConfigError(f"{name} must be a date written YYYY-MM-DD, not {values[0]!r}") from None


def _members(values: list[str], allowed: Sequence[str], name: str) -> tuple[str, ...]:
    for value in values:
        if value not in allowed:
            shown = value if len(value) <= 40 else value[:40] + "..."
            hint = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
            raise ConfigError(
                f"{name} {shown!r} is not one the dashboard offers (those with enough users): {hint}"
            )
    return tuple(sorted(set(values)))


def apply_filters(events: ir.Table, filters: Filters) -> ir.Table:
    """The events that match ``filters`` (dates inclusive, on the UTC day of ``ts``)."""
    events = on_days(events, filters.start, filters.end)
    if filters.authors:
        events = events.filter(events.author.isin(filters.authors))
    if filters.segments:
        events = events.filter(
            events.open_segment.isin(filters.segments) | events.origin_segment.isin(filters.segments)
        )
    if filters.countries:
        events = events.filter(events.country.isin(filters.countries))
    return events


def read_choices(events: ir.Table, min_users: int) -> Choices:
    """The date bounds, and the authors and countries with at least ``min_users`` distinct users."""
    bounds = events.aggregate(first=events.ts.min(), last=events.ts.max()).to_pandas().iloc[0]

    def common(column: str) -> tuple[str, ...]:
        present = events.filter(events[column].notnull())
        counts = present.group_by(column).aggregate(users=present.user_id.nunique())
        frame = counts.filter(counts.users >= min_users).select(column).to_pandas()
        return tuple(sorted(str(v) for v in frame[column]))

    return Choices(
        first_day=_day(bounds["first"]),
        last_day=_day(bounds["last"]),
        authors=common("author"),
        countries=common("country"),
    )


def _day(value: Any) -> date:
    import pandas as pd

    stamp = pd.Timestamp(value)
    return (stamp.tz_convert("UTC") if stamp.tzinfo else stamp).date()


# ---------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class Snapshot:
    """The report for one filter set: its view and page, or why there is none."""

    filters: Filters
    users: int
    """Distinct users matching the filters."""
    view: ReportView | None = None
    """The report's view-model; None below the privacy floor."""
    page: str = ""
    seconds: float = 0.0


class Dashboard:
    """The lake's tables, the filter choices, and a cache of computed views; thread-safe."""

    def __init__(
        self,
        tables: Tables,
        *,
        min_users: int = MIN_USERS,
        top_n: int = 10,
        source: str = "",
        cache_size: int = CACHE_SIZE,
        log: Log | None = None,
    ) -> None:
        self.tables = tables
        self.log = log
        self.min_users = min_users
        self.top_n = top_n
        self.source = source
        self.cache_size = cache_size
        self.computed = 0
        """How many views were computed (cache misses), for tests and the log."""
        self._cache: OrderedDict[Filters, Snapshot] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._engine_lock = threading.Lock()  # one engine connection: one query at a time
        with self._engine_lock:
            self.choices = read_choices(tables.events, min_users)

    @classmethod
    def open(
        cls,
        lake: Lake | str | Path,
        *,
        backend: str = "duckdb",
        min_users: int = MIN_USERS,
        top_n: int = 10,
        log: Log | None = None,
    ) -> Dashboard:
        """Open ``lake`` on ``backend`` (once) and read the filter choices."""
        lake = lake if isinstance(lake, Lake) else Lake(lake, create=False)
        tables = open_lake(lake, backend=backend)
        return cls(tables, min_users=min_users, top_n=top_n, source=str(lake.root), log=log)

    def close(self) -> None:
        disconnect = getattr(self.tables.con, "disconnect", None)
        if disconnect is not None:
            try:
                disconnect()
            except Exception:  # closing at exit: nothing useful to do about a failure
                pass

    def snapshot(self, filters: Filters) -> Snapshot:
        """The computed view for ``filters``, from the cache or computed now (one at a time)."""
        cached = self._cached(filters)
        if cached is not None:
            return cached
        with self._engine_lock:
            cached = self._cached(filters)  # another thread may have computed it meanwhile
            if cached is not None:
                return cached
            snap = self._compute(filters)
            self.computed += 1
            with self._cache_lock:  # still under the engine lock: a waiting thread then finds it
                self._cache[filters] = snap
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        if self.log is not None:
            self.log(f"computed the report for {filters.describe()} in {snap.seconds:.1f} s")
        return snap

    def _cached(self, filters: Filters) -> Snapshot | None:
        with self._cache_lock:
            snap = self._cache.get(filters)
            if snap is not None:
                self._cache.move_to_end(filters)
            return snap

    def _compute(self, filters: Filters) -> Snapshot:
        from tokencensus.report import charts, render
        from tokencensus.report.compute import compute
        from tokencensus.report.data import report_view

        started = time.perf_counter()
        events = apply_filters(self.tables.events, filters)
        users = int(events.aggregate(users=events.user_id.nunique()).to_pandas().iloc[0]["users"] or 0)
        if users < self.min_users:
            return Snapshot(filters=filters, users=users, seconds=time.perf_counter() - started)
        source = f"{self.source} ({filters.describe()})" if self.source else filters.describe()
        results, meta = compute(
            dataclasses.replace(self.tables, events=events, base=events),
            min_users=self.min_users,
            top_n=self.top_n,
            source=source,
        )
        view = report_view(results, meta)
        specs = {fig.id: charts.chart_spec(fig) for fig in view.figures}
        page = render.render_html(
            view,
            specs,
            render.javascript_bundle(),
            template="dashboard.html.j2",
            context={"form": filter_form(self, filters)},
        )
        return Snapshot(
            filters=filters, users=users, view=view, page=page, seconds=time.perf_counter() - started
        )

    # -- responses

    def page(self, filters: Filters) -> str:
        """The dashboard page: the filter form over the report, or over why there is none."""
        from tokencensus.report.render import page_template

        snap = self.snapshot(filters)
        if snap.view is None:
            return page_template("dashboard_message.html.j2").render(
                form=filter_form(self, filters), message=self._too_few(snap)
            )
        return snap.page

    def csv(self, filters: Filters, figure_id: str) -> str | None:
        """One figure's CSV under ``filters``; None when the figure is not in this view."""
        from tokencensus.report.render import figure_csv

        snap = self.snapshot(filters)
        for fig in snap.view.figures if snap.view is not None else ():
            if fig.id == figure_id:
                return figure_csv(fig.frame)
        return None

    def report_json(self, filters: Filters) -> str:
        """``report.json`` for ``filters`` with the filters added (no figures below the floor)."""
        from tokencensus.report.render import render_json

        snap = self.snapshot(filters)
        if snap.view is None:
            doc: dict[str, Any] = {"figures": [], "message": self._too_few(snap)}
        else:
            doc = json.loads(render_json(snap.view))
        doc["filters"] = filters.as_dict()
        return json.dumps(doc, ensure_ascii=False, allow_nan=False, indent=2) + "\n"

    def _too_few(self, snap: Snapshot) -> str:
        # Say "fewer than k", never the count: the count itself is below the floor.
        return (
            f"Fewer than {self.min_users} distinct users match these filters ({snap.filters.describe()}), "
            "so nothing is shown (the privacy floor). Widen the filters."
        )


# ---------------------------------------------------------------- the filter form


@dataclass(frozen=True)
class Select:
    """One of the form's drop-downs: its parameter, label, what it offers and what is chosen."""

    name: str
    label: str
    options: tuple[str, ...]
    chosen: tuple[str, ...]


@dataclass(frozen=True)
class FilterForm:
    """What the filter form shows for one filter set (``_dashboard_filters.html.j2`` lays it out).

    The page for a filter set is computed once and cached with its form: the form depends only on the
    filters and on what was read at start-up.
    """

    start: str
    end: str
    first_day: str
    last_day: str
    selects: tuple[Select, ...]
    min_users: int
    description: str
    query: str
    """The filters' query string ('' for none): the CSV and JSON links carry it."""


def filter_form(dashboard: Dashboard, filters: Filters) -> FilterForm:
    """The form for ``filters``, offering the dashboard's choices."""
    choices = dashboard.choices
    return FilterForm(
        start=filters.start.isoformat() if filters.start else "",
        end=filters.end.isoformat() if filters.end else "",
        first_day=choices.first_day.isoformat(),
        last_day=choices.last_day.isoformat(),
        selects=(
            Select("author", "Author", choices.authors, filters.authors),
            Select("segment", "Segment", choices.segments, filters.segments),
            Select("country", "Country", choices.countries, filters.countries),
        ),
        min_users=dashboard.min_users,
        description=filters.describe(),
        query=filters.query(),
    )


def _form_html(dashboard: Dashboard, filters: Filters) -> str:
    """The filter form alone, as the dashboard's pages include it."""
    from tokencensus.report.render import page_template

    return page_template("_dashboard_filters.html.j2").render(form=filter_form(dashboard, filters))


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


def _text(status: int, message: str) -> Response:
    return Response(status, "text/plain; charset=utf-8", (message + "\n").encode())


def route(dashboard: Dashboard, path: str, query: str) -> Response:
    """Answer one GET: the page, a CSV, the JSON, the health check, or an error."""
    if path == "/healthz":
        return _text(200, "ok")
    if path == "/favicon.ico":
        return Response(204, "image/x-icon", b"")
    csv_match = re.fullmatch(r"/figures/([A-Za-z0-9_]+)\.csv", path)
    if path not in ("/", "/index.html", "/api/report.json") and csv_match is None:
        return _text(
            404, f"Not found: {path[:200]}. Routes: /, /figures/<id>.csv, /api/report.json, /healthz"
        )
    try:
        filters = parse_filters(query, dashboard.choices)
    except ConfigError as exc:
        return _text(400, f"Bad request: {exc}")
    if path == "/api/report.json":
        return Response(200, "application/json; charset=utf-8", dashboard.report_json(filters).encode())
    if csv_match is not None:
        csv = dashboard.csv(filters, csv_match.group(1))
        if csv is None:
            return _text(
                404,
                f"No figure {csv_match.group(1)!r} in the report for these filters ({filters.describe()})",
            )
        return Response(200, "text/csv; charset=utf-8", csv.encode())
    return Response(200, "text/html; charset=utf-8", dashboard.page(filters).encode())


CONTENT_SECURITY_POLICY = (
    # Vega compiles chart expressions with Function(): 'unsafe-eval'. Nothing may be fetched.
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


SOCKET_TIMEOUT_S = 30.0
"""A connection that sends nothing for this long is closed (idle keep-alive connections would
otherwise hold a thread and a descriptor each, for ever)."""
MAX_CONNECTIONS = 64
"""Connections served at once; one more is answered 503 and closed, so no client can exhaust the
process's threads or file descriptors."""


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "tokencensus"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT_S

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host", "")):
            response = _text(400, "Bad request: this dashboard answers only requests to a loopback name")
        else:
            url = urlsplit(self.path)
            try:
                response = route(self.server.dashboard, url.path, url.query)
            except TokencensusError as exc:
                response = _text(500, f"Error: {exc}")
            except Exception:
                self.server.log_error(traceback.format_exc())
                response = _text(500, "Internal error; the server's log has the details.")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.end_headers()
        if send_body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log_request_line(f"{self.address_string()} {format % args}")


class DashboardServer(ThreadingHTTPServer):
    """A threading HTTP server holding one :class:`Dashboard`."""

    daemon_threads = True

    def __init__(self, dashboard: Dashboard, host: str, port: int, *, log: Log | None = None) -> None:
        self.dashboard = dashboard
        self.log = log
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.loopback = is_loopback(host)
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own, unless :data:`MAX_CONNECTIONS` are open."""
        if not self.slots.acquire(blocking=False):
            try:
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def host_allowed(self, header: str) -> bool:
        """On a loopback bind, only requests addressed to a loopback name (defeats DNS rebinding)."""
        if not self.loopback:
            return True
        name = header.strip().lower()
        if name.startswith("["):
            name = name[1 : name.find("]")] if "]" in name else name
        else:
            name = name.rsplit(":", 1)[0]
        return name in LOOPBACK_NAMES or name == str(self.server_address[0])

    def log_request_line(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    def log_error(self, text: str) -> None:
        sys.stderr.write(text)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def make_server(
    dashboard: Dashboard,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    log: Log | None = None,
) -> DashboardServer:
    """Bind ``host``:``port`` (0: any free port) for ``dashboard``; ``log`` gets one line per request."""
    try:
        return DashboardServer(dashboard, host, port, log=log)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port"
        ) from None


def serve(
    lake: Lake | str | Path,
    *,
    backend: str = "duckdb",
    min_users: int = MIN_USERS,
    top_n: int = 10,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    log: Log = print,
    ready: Callable[[str], object] | None = None,
    warn: Log | None = None,
) -> None:
    """Serve the dashboard for ``lake`` until Ctrl-C or SIGTERM; ``ready`` gets the URL, ``warn``
    (default: ``log``) the warning that a non-loopback address exposes the data."""
    dashboard = Dashboard.open(lake, backend=backend, min_users=min_users, top_n=top_n, log=log)
    try:
        server = make_server(dashboard, host, port, log=log)
    except BaseException:
        dashboard.close()
        raise
    if not server.loopback:
        (warn or log)(
            f"WARNING: listening on {host}, not a loopback address: anyone who can reach this machine "
            "can read the dashboard (there is no authentication)."
        )
    (ready or log)(server.url)
    restore = _stop_on_sigterm()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        server.server_close()
        dashboard.close()


def _stop_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM stop the server like Ctrl-C (service managers, `kill`); returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore
