"""docs/quickstart.ipynb runs, top to bottom, and prints what it shows.

Each code cell is executed in one namespace, as a Jupyter kernel would, and its printed output must
equal the output stored in the notebook, so the example in the docs cannot go stale. After changing
the notebook, ``python tests/test_notebook.py`` re-runs it and stores the new outputs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "quickstart.ipynb"


def execute(notebook: dict, workdir: Path) -> list[str]:
    """Each code cell's standard output, running every cell in ``workdir``."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    outputs = []
    here = Path.cwd()
    os.chdir(workdir)
    try:
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile("".join(cell["source"]), "<cell>", "exec"), namespace)
            outputs.append(buffer.getvalue())
    finally:
        os.chdir(here)
    return outputs


def stored(notebook: dict) -> list[str]:
    return [
        "".join(
            text for out in cell.get("outputs", []) if out.get("name") == "stdout" for text in out["text"]
        )
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    ]


def test_the_quickstart_notebook_runs_and_prints_what_it_shows(tmp_path: Path) -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    got = execute(notebook, tmp_path)
    want = stored(notebook)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"code cell {i + 1} printed something else than the notebook shows"
    assert (tmp_path / "report" / "report.html").is_file()


def _store(workdir: Path) -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    outputs = iter(execute(notebook, workdir))
    count = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        count += 1
        text = next(outputs)
        cell["execution_count"] = count
        cell["outputs"] = (
            [{"name": "stdout", "output_type": "stream", "text": text.splitlines(keepends=True)}]
            if text
            else []
        )
    NOTEBOOK.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        _store(Path(tmp))
    sys.exit(0)
