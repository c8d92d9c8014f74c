"""The LLM backend against a fake OpenAI-compatible server: batching, retries, cost guard, scrubbing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pyarrow as pa
import pytest

from tokencensus.classify import classify_lake
from tokencensus.classify.classifiers.llm import LLMClassifier
from tokencensus.classify.labels import read_labels
from tokencensus.errors import ConfigError
from tokencensus.ingest.samples import SampleWriter
from tokencensus.lake import Lake

FREE = {"usd_per_mtok_in": 0.0, "usd_per_mtok_out": 0.0}
"""Prices of a free local model (the fake server's): the guard then counts calls only."""


class FakeServer:
    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict[str, object]] = []
        self.fail_first = fail_first
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.bodies.append(body)
                if len(server.bodies) <= server.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                listing = body["messages"][1]["content"]
                items = []
                for i, chunk in enumerate(listing.split("\n\n[")):
                    cat = "programming" if "python" in chunk.lower() else "roleplay"
                    items.append({"i": i + 1, "category": cat, "confidence": 0.9})
                answer = {"choices": [{"message": {"content": "Sure:\n" + json.dumps(items)}}]}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    server = FakeServer(fail_first=1)
    yield server
    server.httpd.shutdown()


def test_batches_and_retries(fake: FakeServer) -> None:
    backend = LLMClassifier(base_url=fake.url, model="fake", batch_size=2, backoff_s=0.01, **FREE)
    pred = backend.predict(["write python code", "you are a pirate", "python please"])
    assert pred.categories == ["programming", "roleplay", "programming"]
    assert len(fake.bodies) == 3  # one 503 retried, then two batches (2 + 1 prompts)


def test_cost_guard_stops_before_overspending(fake: FakeServer) -> None:
    backend = LLMClassifier(
        base_url=fake.url, model="fake", batch_size=1, max_calls=2, backoff_s=0.01, **FREE
    )
    with pytest.raises(ConfigError, match="cost guard"):
        backend.predict(["a", "b", "c"])
    pricey = LLMClassifier(
        base_url=fake.url, model="fake", usd_per_mtok_in=1e6, usd_per_mtok_out=0, max_usd=1.0
    )
    with pytest.raises(ConfigError, match="cost guard"):
        pricey.predict(["x" * 100])


def test_unreachable_endpoint_gives_other() -> None:
    backend = LLMClassifier(
        base_url="http://127.0.0.1:9/v1", model="m", retries=1, backoff_s=0.01, timeout_s=1, **FREE
    )
    pred = backend.predict(["hello"])
    assert pred.categories == ["other"]
    assert pred.confidence[0] == 0.0


def test_classify_lake_sends_only_scrubbed_text(fake: FakeServer, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    writer = SampleWriter(lake.root, rate=1.0)
    writer.add(
        pa.table({"request_id": ["r1", "r2"], "text": ["python help, mail bob@corp.com", "be a pirate"]})
    )
    writer.flush()
    summary = classify_lake(
        lake.root, classifier="llm", rate=1.0, base_url=fake.url, model="fake", backoff_s=0.01, **FREE
    )
    assert summary.written == 2
    assert summary.classifier == "llm:fake"
    sent = json.dumps(fake.bodies)
    assert "bob@corp.com" not in sent
    assert "[EMAIL]" in sent
    assert set(read_labels(lake.root)["category"].to_pylist()) == {"programming", "roleplay"}


def test_the_cost_guard_prices_from_the_catalog_or_refuses_to_start(fake: FakeServer) -> None:
    """--max-usd must be able to stop a run started from the CLI: a model the catalog knows is priced
    from it; one it does not know must be priced by the user (0 for a free local model)."""
    backend = LLMClassifier(base_url=fake.url, model="gpt-4o-mini", max_usd=5.0)
    assert (backend.price_in, backend.price_out) == (0.15, 0.6)  # the catalog's USD per 1M tokens
    with pytest.raises(ConfigError, match="no price for --llm-model 'my-local-llama'"):
        LLMClassifier(base_url=fake.url, model="my-local-llama")
    assert LLMClassifier(base_url=fake.url, model="my-local-llama", **FREE).price_in == 0.0


def test_max_usd_stops_a_cli_run(fake: FakeServer, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tokencensus.cli import cli

    lake = Lake(tmp_path / "lake")
    writer = SampleWriter(lake.root, rate=1.0)
    writer.add(pa.table({"request_id": [f"r{i}" for i in range(50)], "text": ["x" * 4000] * 50}))
    writer.flush()
    args = ["classify", "--lake", str(lake.root), "--classifier", "llm", "--rate", "1", "--llm-url", fake.url]
    result = CliRunner().invoke(cli, [*args, "--llm-model", "gpt-4o", "--max-usd", "0.0001"])
    assert isinstance(result.exception, ConfigError)
    assert "cost guard" in str(result.exception)
    assert len(fake.bodies) < 50
