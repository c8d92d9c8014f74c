"""One colour per model, author, segment and category across the report's charts."""

from __future__ import annotations

from tests.report.test_report import HOSTILE, make_meta
from tests.report.test_sections import full_results
from tokencensus.report import charts
from tokencensus.report.colors import DISTINCT, FIXED, GREY, colors, entity_colors
from tokencensus.report.data import report_view


def test_values_take_colours_in_the_order_the_report_first_draws_them() -> None:
    got = entity_colors([["a", "Other", "b"], ["b", "c"], ["Proprietary", "Open weights", "d"]])
    free = [c for c in DISTINCT if c not in FIXED.values()]
    assert got == {
        "a": free[0],
        "b": free[1],
        "c": free[2],
        "Proprietary": FIXED["Closed"],  # proprietary and closed weights are one segment
        "Open weights": FIXED["Open weights"],
        "d": free[3],
    }
    assert "Other" not in got  # the catch-alls stay grey


def test_a_chart_keeps_the_report_colours_unless_two_of_its_values_would_share_one() -> None:
    palette = {"a": "#111111", "b": "#222222", "c": "#111111"}
    assert colors(["a", "b", "Other"], ("Other",), palette) == ["#111111", "#222222", GREY]
    own = colors(["a", "c"], (), palette)  # a and c collide: the chart's own colours
    assert len(set(own)) == 2
    assert own == colors(["a", "c"], ())
    assert colors(["a", "z"], (), palette) == colors(["a", "z"], ())  # z has no report colour


def _scale(spec: dict, field: str) -> dict[str, str]:
    """Value → colour of the spec's colour scale on ``field``."""
    for enc in _encodings(spec):
        color = enc.get("color", {})
        if color.get("field") == field and "scale" in color:
            return dict(zip(color["scale"]["domain"], color["scale"]["range"], strict=True))
    raise AssertionError(f"no colour scale on {field}")


def _encodings(spec: dict) -> list[dict]:
    out = [spec.get("encoding", {})]
    for layer in spec.get("layer", []):
        out += _encodings(layer)
    return out


def test_a_model_and_a_segment_look_the_same_in_every_chart() -> None:
    view = report_view(full_results(), make_meta())
    specs = {f.id: charts.chart_spec(f) for f in view.figures}
    board, curves = _scale(specs["leaderboard"], "model"), _scale(specs["retention_curves"], "model")
    assert board[HOSTILE] == curves[HOSTILE]
    opn, origin = _scale(specs["share_open"], "segment"), _scale(specs["share_origin"], "segment")
    assert opn["Open weights"] == FIXED["Open weights"]
    assert origin["Proprietary"] == opn["Closed"] == FIXED["Closed"]
    assert origin["Chinese open"] == FIXED["Chinese open"]
    programming = {
        fid: _scale(specs[fid], field)["programming"]
        for fid, field in (("share_category", "segment"), ("category_segments", "category"))
    }
    assert len(set(programming.values())) == 1, programming
