"""report.md of a small fixed lake, word for word: the hand-made lake of tests/report/test_figures.py
at a privacy floor of 1 user (its cells without a user hidden), so that its numbers show. A change
to any headline, table, note or number shows up here as a diff to review. After an intended change,
``python tests/report/test_gold.py`` writes the new gold file (then read its diff before committing).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

GOLD = Path(__file__).resolve().parent / "gold" / "report.md"


def render(workdir: Path) -> str:
    from tests.conftest import tiny_catalog_table
    from tests.report.test_figures import hand_lake
    from tokencensus.report import build_report
    from tokencensus.study import Study

    lake = hand_lake(workdir / "lake")
    with Study(lake, min_users=1, catalog=tiny_catalog_table(), org="a hand-made lake") as study:
        results, meta = study.results(), study.meta
        meta = dataclasses.replace(meta, source="tests/report/test_figures.py")  # not the temp path
        out = build_report(results, meta, workdir / "report", formats=("md",))
    assert out.markdown is not None
    return out.markdown.read_text(encoding="utf-8")


def test_report_md_of_a_small_fixed_lake_is_the_gold_file(tmp_path: Path) -> None:
    got = render(tmp_path)
    assert got == GOLD.read_text(encoding="utf-8"), "report.md changed: run python tests/report/test_gold.py"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    with tempfile.TemporaryDirectory() as tmp:
        GOLD.write_text(render(Path(tmp)), encoding="utf-8")
    print(f"wrote {GOLD}")
