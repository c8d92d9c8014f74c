"""The report's rollups: every figure's numbers from a handful of passes over the requests.

Run one by one, the analyses scan the requests once each and count distinct users with a hash
table as large as their (period, cell, user) triples: at 100M simulated requests a single weekly
count of distinct users costs ~10 s on 2 cores, and the report has ~25 of them. The report instead
reads what these functions build (see :func:`tokencensus.report.sources.sources`):

* :func:`sums`, taken apart by :func:`model_cube` and :func:`geo_cube`: sums per (week, month,
  model, provider, finish reason, with a user, priced) and per (week, month, country, priced),
  both from one pass (:func:`grouping_sets`). They are events in the sense of
  :mod:`tokencensus.engine` (pre-aggregated rows with a ``requests`` weight and the same column
  names), so every sum an analysis takes reads the same from them; they hold no user ids.
* :func:`week_segment_users`: one pass over (week, user). Each (week, model) carries a bit mask
  of the segment values its tokens count under in every figure (open weights, origin, size, author,
  top models, ...); OR-ing the masks over a user's requests of the week and counting, per bit, the
  users whose mask has it, gives the exact distinct users of every weekly cell of every figure.
* :func:`user_masks`: one pass feeding two groupings. Per (model, user) pair, whether it is active
  in the last four weeks and the bit set of its active months, counted per (model, recent, months
  set): the retention triangle (:func:`model_month_masks`, :func:`triangle_from_masks`), each
  model's users and its recent users (:func:`recent_users`) come from it. Per (user, country), bit
  sets of active weeks and of the months on each followed model and on the rest
  (:func:`account_masks`): users by country and month, by continent and week, all users, and the
  churn flows between the followed models (:func:`churn_from_masks`).

Each request's bits come from a join with a small (period, model) table built in Python
(:func:`user_dim`; the weekly pass's segment masks likewise), so the passes only OR columns.

A mask is a list of 64-bit words holding 63 bits each (:data:`WORD_BITS`; the sign bit is left
unused), so any number of weeks, months or segment values fits. Counts are exact; the report
checks them against the standalone analyses (tests/analyses/test_rollups.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
import sqlglot.expressions as sge

from tokencensus.analyses.market import NANO

WORD_BITS = 63
"""Bits used per 64-bit mask word (the sign bit stays clear, so shifts and tests stay simple)."""


@ibis.udf.agg.builtin(name="bit_or")
def bit_or(x: dt.int64) -> dt.int64:  # type: ignore[empty-body]
    """Bitwise OR of a column (DuckDB's and Spark's own ``bit_or``)."""


@ibis.udf.scalar.builtin(name="bit_count")
def bit_count(x: dt.int64) -> dt.int64:  # type: ignore[empty-body]
    """Number of set bits (DuckDB's and Spark's own ``bit_count``)."""


def n_words(n_bits: int) -> int:
    """Words needed for ``n_bits`` positions."""
    return max(1, -(-n_bits // WORD_BITS))


def _int(value: int) -> ir.IntegerScalar:
    return ibis.literal(value).cast("int64")


# Bitwise operators. Engines disagree on the precedence of &, |, << and >> (DuckDB, like
# PostgreSQL, gives them one level, left to right); the generated SQL parenthesises every nested
# binary operation, so those are safe as they are, but it writes NOT (a & b) as ``~a & b``, so the
# operand of ~ is wrapped in a function call. Operands are never null here (masks are ORs over
# non-empty groups); each extra call costs time on millions of rows.
def _wrap(x: ir.IntegerValue) -> ir.IntegerValue:
    return ibis.coalesce(x, _int(0))


def band(a: ir.IntegerValue, b: ir.IntegerValue) -> ir.IntegerValue:
    """a AND b."""
    return a & b


def bor(a: ir.IntegerValue, b: ir.IntegerValue) -> ir.IntegerValue:
    """a OR b."""
    return a | b


def bnot(a: ir.IntegerValue) -> ir.IntegerValue:
    """NOT a (the 63 used bits and the sign bit)."""
    return ~_wrap(a)


def shr(a: ir.IntegerValue, n: int | ir.IntegerValue) -> ir.IntegerValue:
    """a >> n."""
    return a >> n


def shl(a: ir.IntegerValue, n: int | ir.IntegerValue) -> ir.IntegerValue:
    """a << n."""
    return a << n


def has_bit(t: ir.Table, prefix: str, words: int, position: int | ir.IntegerValue) -> ir.IntegerValue:
    """1 when the mask ``{prefix}0..`` of each row has ``position`` set, else 0."""
    if isinstance(position, int):
        word, local = divmod(position, WORD_BITS)
        return band(shr(t[f"{prefix}{word}"], local), _int(1))
    out = _int(0)
    for j in range(words):
        local = position.cast("int64") - WORD_BITS * j
        inside = (local >= 0) & (local < WORD_BITS)
        out = out + ibis.ifelse(inside, band(shr(t[f"{prefix}{j}"], local.clip(lower=0)), _int(1)), _int(0))
    return out


def bit_totals(t: ir.Table, prefix: str, positions: int, weight: ir.IntegerValue | None = None) -> dict:
    """Aggregates ``p{i}``: Σ weight over the rows whose mask ``{prefix}..`` has bit ``i`` set."""
    w = _int(1) if weight is None else weight
    return {f"p{i}": (has_bit(t, prefix, n_words(positions), i) * w).sum() for i in range(positions)}


_BIGINT = sge.DataType.build("bigint")


# -- one pass, several groupings ------------------------------------------------------------------
def grouping_sets(table: ir.Table, sets: Sequence[Sequence[str]], aggs: dict[str, ir.Scalar]) -> ir.Table:
    """``aggs`` of ``table`` per each grouping of ``sets``, all in one pass (SQL ``GROUPING SETS``).

    Every aggregate is computed for every grouping. Columns: the keys of all sets (null where a
    row's grouping lacks them), ``g_{key}`` (1 where the row's grouping lacks ``key``, else 0) for
    each key not in every set, then the aggregates. One scan feeding several small groupings costs
    about one grouping: cheaper than a pass each, and than storing a large input for several
    passes. Ibis has no grouping sets, so the aggregate is compiled on the table's backend and its
    ``GROUP BY`` replaced (DuckDB, Spark and most SQL engines have ``GROUPING SETS``).
    """
    keys = list(dict.fromkeys(k for s in sets for k in s))
    partial = [k for k in keys if any(k not in s for s in sets)]
    expr = table.group_by(keys).aggregate(**aggs)
    con = ibis.get_backend(table)
    query = con.compiler.to_sqlglot(expr)
    if not isinstance(query, sge.Select) or query.args.get("group") is None:  # pragma: no cover
        raise TypeError(f"expected a grouped SELECT for grouping sets, got {type(query).__name__}")
    column = {}
    for k, e in zip(keys, query.expressions, strict=False):
        column[k] = e.this if isinstance(e, sge.Alias) else e
    tuples = [sge.Tuple(expressions=[column[k].copy() for k in s]) for s in sets]
    query.set("group", sge.Group(grouping_sets=[sge.GroupingSets(expressions=tuples)]))
    flags = [
        sge.Alias(
            this=sge.Cast(this=sge.Anonymous(this="GROUPING", expressions=[column[k].copy()]), to=_BIGINT),
            alias=sge.to_identifier(f"g_{k}", quoted=True),
        )
        for k in partial
    ]
    n_keys = len(keys)
    query.set("expressions", [*query.expressions[:n_keys], *flags, *query.expressions[n_keys:]])
    schema = expr.schema()
    out = ibis.schema(
        {
            **{k: schema[k] for k in keys},
            **{f"g_{k}": dt.int64 for k in partial},
            **{k: schema[k] for k in aggs},
        }
    )
    return con.sql(query.sql(dialect=con.compiler.dialect), schema=out)


# -- sums -----------------------------------------------------------------------------------------
SUM_COLUMNS = ("requests", "input_tokens", "output_tokens", "tokens", "cost_nano")
"""The columns of :func:`_sums`, which both cubes carry."""


def _sums(base: ir.Table) -> dict:
    priced = base.cost_usd.notnull()
    return {
        "requests": base.requests.sum(),
        "input_tokens": base.input_tokens.sum(),
        "output_tokens": base.output_tokens.sum(),
        "tokens": base.tokens.sum(),
        "cost_nano": (base.cost_usd * NANO).round().cast("int64").sum(where=priced),
    }


def _with_cost(cube: ir.Table) -> ir.Table:
    """``cost_usd`` from the exact nano-dollar sum (null for the unpriced cells)."""
    return cube.mutate(
        cost_usd=ibis.ifelse(cube.priced, cube.cost_nano.cast("float64") / NANO, ibis.null("float64"))
    ).drop("cost_nano")


MODEL_KEYS = ("week", "month", "model", "provider", "finish_reason", "has_user", "priced")
GEO_KEYS = ("week", "month", "country", "priced")


def sums(base: ir.Table) -> ir.Table:
    """The sums of both cubes in one pass over the requests (:func:`grouping_sets`): rows per
    (week, month, model, provider, finish_reason, has_user, priced), where ``g_country`` = 1, and
    per (week, month, country, priced), where ``g_model`` = 1.

    ``base`` is the events with ``week``, ``month`` and ``tokens`` (:func:`~tokencensus.engine.
    with_periods`). :func:`model_cube` and :func:`geo_cube` take them apart.
    """
    t = base.mutate(
        finish_reason=base.finish_reason.cast("string"),
        has_user=base.user_id.notnull(),
        priced=base.cost_usd.notnull(),
    )
    aggs = {
        **_sums(t),
        "reasoning_tokens": t.reasoning_tokens.sum(),
        "day_min": t.day.min(),
        "day_max": t.day.max(),
    }
    return grouping_sets(t, [MODEL_KEYS, GEO_KEYS], aggs)


def model_cube(sums_: ir.Table) -> ir.Table:
    """Sums per (week, month, model, provider, finish_reason, has_user, priced), from :func:`sums`.

    Columns: the keys, requests, input_tokens, output_tokens, tokens, reasoning_tokens, day_min and
    day_max (the first and last UTC day of its requests), cost_usd (exact: summed in nano-dollars;
    null where unpriced).
    """
    t = sums_.filter(sums_.g_country == 1)
    return _with_cost(t.select(*MODEL_KEYS, *SUM_COLUMNS, "reasoning_tokens", "day_min", "day_max"))


def geo_cube(sums_: ir.Table) -> ir.Table:
    """Sums per (week, month, country, priced), from :func:`sums`: requests, input/output tokens,
    tokens, cost_usd."""
    t = sums_.filter(sums_.g_model == 1)
    return _with_cost(t.select(*GEO_KEYS, *SUM_COLUMNS))


# -- weekly users of every segment ------------------------------------------------------------------
def week_segment_users(base: ir.Table, masks: ir.Table, positions: int) -> ir.Table:
    """Per week: users (all) and ``p{i}`` = users with bit ``i`` in the OR of their week's masks.

    ``masks`` has ``week``, ``model`` and the words ``s0..`` of each (week, model)'s segment bits.
    """
    words = n_words(positions)
    ev = base.filter(base.user_id.notnull()).select("week", "model", "user_id")
    m = masks.rename(m_week="week", m_model="model")
    joined = ev.inner_join(m, [ev.week == m.m_week, ev.model == m.m_model])
    per_user = joined.group_by(["week", "user_id"]).aggregate(
        **{f"s{j}": bit_or(joined[f"s{j}"]) for j in range(words)}
    )
    combos = per_user.group_by(["week", *(f"s{j}" for j in range(words))]).aggregate(n=per_user.count())
    return combos.group_by("week").aggregate(
        users=combos.n.sum(), **bit_totals(combos, "s", positions, combos.n)
    )


# -- dimension tables -----------------------------------------------------------------------------
# The user passes group ~100M requests into millions of (period, user) or (model, user) groups,
# where every per-row expression and every aggregate costs about a second per 100M rows on 2 cores,
# and a string model in a group key costs ~5 s more than an integer one. So each request's bits
# come from a join with a small table of (period, model) rows built here, in Python: the model's
# number, and each mask word with the request's bit already placed. The passes then only OR
# columns together.
def month_number(day: date) -> int:
    """Months since year 0 (:func:`~tokencensus.analyses.retention.month_index` in Python)."""
    return day.year * 12 + day.month - 1


def mask_words(mask: int, words: int) -> list[int]:
    """A Python integer bit set as ``words`` mask words of :data:`WORD_BITS` bits each."""
    low = (1 << WORD_BITS) - 1
    return [(mask >> (WORD_BITS * j)) & low for j in range(words)]


def _words_of(position: int, words: int) -> list[int]:
    """The ``words`` mask words of a single bit ``position``."""
    return mask_words(1 << position, words)


def month_start(mi: int) -> date:
    """The first day of month number ``mi`` (the inverse of :func:`month_number`)."""
    return date(mi // 12, mi % 12 + 1, 1)


# -- one pass for the (model, user) pairs and the (user, country) accounts -----------------------
def user_dim(
    models: Sequence[str],
    follow: Sequence[str],
    first_week: date,
    n_weeks: int,
    first_mi: int,
    n_months: int,
    recent_from: date,
) -> pa.Table:
    """One row per (week, month, model) for :func:`user_masks`: ``d_week``, ``d_month``,
    ``d_model``, ``mid`` (the model's index in ``models``), ``recent`` (1 from the week
    ``recent_from`` on), ``m0..`` (the month's bit; month 0 = ``first_mi``), ``w0..`` (the week's
    bit; week 0 = ``first_week``) and ``k0..`` (the bit of the month in its model slot: each
    followed model, then one for all other models; see :func:`slot_position`). Weeks that straddle
    two months have a row for each month."""
    slot = {model: i for i, model in enumerate(follow)}
    others = len(follow)
    mw, ww, kw = n_words(n_months), n_words(n_weeks), packed_words(len(follow) + 1, n_months)
    cols: dict[str, list] = {"d_week": [], "d_month": [], "d_model": [], "mid": [], "recent": []}
    cols |= {f"{p}{j}": [] for p, n in (("m", mw), ("w", ww), ("k", kw)) for j in range(n)}
    for wi in range(n_weeks):
        week = first_week + timedelta(days=7 * wi)
        months = sorted({month_number(week + timedelta(days=d)) for d in range(7)})
        for mi in (m for m in months if first_mi <= m < first_mi + n_months):
            for mid, model in enumerate(models):
                word, local = slot_position(slot.get(model, others), mi - first_mi, n_months)
                cols["d_week"].append(week)
                cols["d_month"].append(month_start(mi))
                cols["d_model"].append(model)
                cols["mid"].append(mid)
                cols["recent"].append(int(week >= recent_from))
                for j, value in enumerate(_words_of(mi - first_mi, mw)):
                    cols[f"m{j}"].append(value)
                for j, value in enumerate(_words_of(wi, ww)):
                    cols[f"w{j}"].append(value)
                for j, value in enumerate(_words_of(word * WORD_BITS + local, kw)):
                    cols[f"k{j}"].append(value)
    types = {"d_week": pa.date32(), "d_month": pa.date32(), "d_model": pa.string(), "mid": pa.int32()}
    return pa.table({name: pa.array(values, types.get(name, pa.int64())) for name, values in cols.items()})


def slot_position(slot: int, rel: int, n_months: int) -> tuple[int, int]:
    """(word, bit) of month ``rel`` of model slot ``slot`` in the accounts' words ``k..``.

    When a month set fits a word, slots sit side by side, as many per word as fit without
    straddling two words (4 per word for 13 months); otherwise each slot has words of its own."""
    if n_months <= WORD_BITS:
        per_word = WORD_BITS // n_months
        return slot // per_word, (slot % per_word) * n_months + rel
    return slot * n_words(n_months) + rel // WORD_BITS, rel % WORD_BITS


def packed_words(slots: int, n_months: int) -> int:
    """Words ``k..`` that hold the month sets of ``slots`` slots (:func:`slot_position`)."""
    last_word, _ = slot_position(slots - 1, n_months - 1, n_months)
    return last_word + 1


def user_masks(base: ir.Table, dim: ir.Table, n_follow: int, n_weeks: int, n_months: int) -> ir.Table:
    """The requests with a user, joined once with ``dim`` (:func:`user_dim`, on ``base``'s backend,
    for every model of ``base`` and its ``n_follow`` followed models), grouped two ways:

    * ``kind`` 0: the (model, user) pairs counted per ``mid``, ``recent`` (the pair has a request
      from ``recent_from`` on) and set of active months ``m..``, in ``n``;
    * ``kind`` 1: one row per (``user_id``, ``country``): active weeks ``w..`` and the packed
      month sets of the model slots ``k..`` (taken apart by :func:`account_masks`).

    Both groupings read one scan of the requests (DuckDB feeds one join to two hash aggregates):
    ~2 s less at 100M requests than a pass each. The columns a kind lacks are null.
    """
    ev = base.filter(base.user_id.notnull()).select("week", "month", "model", "user_id", "country")
    joined = ev.inner_join(dim, [ev.week == dim.d_week, ev.month == dim.d_month, ev.model == dim.d_model])
    months = [f"m{j}" for j in range(n_words(n_months))]
    weeks = [f"w{j}" for j in range(n_words(n_weeks))]
    packed = [f"k{j}" for j in range(packed_words(n_follow + 1, n_months))]
    per = joined.group_by(["mid", "user_id"]).aggregate(
        recent=joined.recent.max(), **{w: bit_or(joined[w]) for w in months}
    )
    pairs = per.group_by(["mid", "recent", *months]).aggregate(n=per.count())
    acc = joined.group_by(["user_id", "country"]).aggregate(**{c: bit_or(joined[c]) for c in weeks + packed})
    i64, text = ibis.null("int64"), ibis.null("string")
    return pairs.select(
        kind=_int(0),
        mid=pairs.mid.cast("int64"),
        recent=pairs.recent.cast("int64"),
        user_id=text,
        country=text,
        **{w: pairs[w] for w in months},
        **{c: i64 for c in weeks + packed},
        n=pairs.n.cast("int64"),
    ).union(
        acc.select(
            kind=_int(1),
            mid=i64,
            recent=i64,
            user_id=acc.user_id.cast("string"),
            country=acc.country.cast("string"),
            **{w: i64 for w in months},
            **{c: acc[c] for c in weeks + packed},
            n=i64,
        )
    )


def _names(dim: ir.Table) -> ir.Table:
    return dim.select(n_mid="mid", model="d_model").distinct()


# -- retention ------------------------------------------------------------------------------------
def model_month_masks(masks: ir.Table, dim: ir.Table, first_mi: int, n_months: int) -> ir.Table:
    """(model, user) pairs counted per model, first month and set of active months, from
    :func:`user_masks` (and its ``dim``).

    Columns: model, cohort_mi (absolute month index of the pair's first month, the lowest bit of
    its set), m0.. (active months, bit 0 = ``first_mi``), n (users).
    """
    words = [f"m{j}" for j in range(n_words(n_months))]
    pairs = masks.filter(masks.kind == 0)
    counted = pairs.group_by(["mid", *words]).aggregate(n=pairs.n.sum())
    names = _names(dim)
    out = counted.inner_join(names, counted.mid == names.n_mid)
    return out.select(
        "model", cohort_mi=lowest_bit(out, words) + first_mi, **{w: out[w] for w in words}, n=out.n
    )


def recent_users(masks: ir.Table, dim: ir.Table) -> ir.Table:
    """(model, users): each model's users with a request from :func:`user_dim`'s ``recent_from``
    on, from :func:`user_masks`."""
    pairs = masks.filter((masks.kind == 0) & (masks.recent == 1))
    counted = pairs.group_by("mid").aggregate(users=pairs.n.sum())
    names = _names(dim)
    out = counted.inner_join(names, counted.mid == names.n_mid)
    return out.select("model", users=out.users.cast("int64"))


def lowest_bit(t: ir.Table, words: Sequence[str]) -> ir.IntegerValue:
    """Position of the lowest set bit of each row's mask ``words`` (null when it is empty)."""
    out = ibis.null("int64")
    for j in reversed(range(len(words))):
        w = t[words[j]]
        trailing = bit_count(band(w, -w) - 1) + WORD_BITS * j
        out = ibis.ifelse(w != 0, trailing, out)
    return out


def triangle_from_masks(masks: ir.Table, first_mi: int, end_mi: int, n_months: int) -> ir.Table:
    """The retention triangle (:func:`~tokencensus.analyses.retention.retention_triangle`'s rows
    and columns) from :func:`model_month_masks`; ``end_mi`` is the first incomplete month index."""
    words = n_words(n_months)
    ks = ibis.memtable({"k": list(range(max(n_months, 1)))})
    grid = masks.cross_join(ks)
    grid = grid.filter((grid.k == 0) | (grid.cohort_mi + grid.k < end_mi))
    active = has_bit(grid, "m", words, grid.cohort_mi - first_mi + grid.k)
    cells = grid.group_by(["model", "cohort_mi", "k"]).aggregate(
        cohort_users=grid.n.sum(), active_users=(grid.n * active).sum()
    )
    year = (cells.cohort_mi // 12).cast("int32")
    month = (cells.cohort_mi % 12 + 1).cast("int32")
    return cells.select(
        "model",
        cohort=ibis.date(year, month, 1),
        k=cells.k,
        cohort_users=cells.cohort_users,
        active_users=cells.active_users,
        retention=cells.active_users.cast("float64") / cells.cohort_users.cast("float64"),
        users=cells.cohort_users,
        left_censored=cells.cohort_mi == first_mi,
    ).order_by(["model", "cohort", "k"])


def model_users(masks: ir.Table) -> ir.Table:
    """Distinct users of each model over the data (model, users), from :func:`model_month_masks`."""
    return masks.group_by("model").aggregate(users=masks.n.sum())


# -- accounts: geography, all users, churn ----------------------------------------------------------
def account_masks(masks: ir.Table, n_follow: int, n_weeks: int, n_months: int) -> ir.Table:
    """One row per (user, country), from :func:`user_masks`: active weeks ``w..``, active months
    ``m..`` (any model), the months on each followed model ``f{i}_..`` and on the other models
    ``o..``.

    The months of every model slot come packed in the words ``k..`` (4 aggregates in all for 52
    weeks, 13 months and 10 followed models, instead of 13 masks) and are taken apart here.
    """
    acc = masks.filter(masks.kind == 1)
    weeks = [f"w{j}" for j in range(n_words(n_weeks))]
    mw = n_words(n_months)

    def months_of(slot: int) -> list[ir.IntegerValue]:
        if n_months > WORD_BITS:
            word, _ = slot_position(slot, 0, n_months)
            return [acc[f"k{word + j}"] for j in range(mw)]
        word, local = slot_position(slot, 0, n_months)
        return [band(shr(acc[f"k{word}"], local), _int((1 << n_months) - 1))]

    slots = [months_of(i) for i in range(n_follow + 1)]
    every = slots[0]
    for other in slots[1:]:
        every = [bor(a, b) for a, b in zip(every, other, strict=True)]
    return acc.select(
        "user_id",
        "country",
        *weeks,
        **{f"m{j}": every[j] for j in range(mw)},
        **{f"f{i}_{j}": slots[i][j] for i in range(n_follow) for j in range(mw)},
        **{f"o{j}": slots[-1][j] for j in range(mw)},
    )


def _shift_down(t: ir.Table, prefix: str, words: int) -> list[ir.IntegerValue]:
    """The mask ``{prefix}..`` shifted one position down (bit i+1 → bit i), word by word."""
    out = []
    for j in range(words):
        value = shr(t[f"{prefix}{j}"], 1)
        if j + 1 < words:
            value = bor(value, shl(band(t[f"{prefix}{j + 1}"], _int(1)), WORD_BITS - 1))
        out.append(value)
    return out


def churn_from_masks(
    accounts: ir.Table, follow: Sequence[str], n_months: int, complete: int, *, one_row_per_user: bool = False
) -> ir.Table:
    """Churn flows (:func:`~tokencensus.analyses.retention.churn_flows` with ``models=follow``) from
    :func:`account_masks`: one wide row of churns, users and from_churns per flow.

    ``complete`` = months (from the first) that are complete: a churn after month i needs i + 1 <
    ``complete``. Columns ``c_{a}_{b}`` (churns a → b), ``u_{a}_{b}`` (users) and ``t_{a}`` (all
    churns from a), with b a followed index, "o" (other models) or "n" (none).

    A user seen in several countries has a row for each; ``one_row_per_user`` says there is none
    such (rows = distinct users), which spares merging the rows per user (~1 s at 2M users).
    """
    mw = n_words(n_months)
    prefixes = [f"f{i}_" for i in range(len(follow))] + ["o", "m"]
    per_user = accounts
    if not one_row_per_user:
        per_user = accounts.group_by("user_id").aggregate(
            **{f"{p}{j}": bit_or(accounts[f"{p}{j}"]) for p in prefixes for j in range(mw)}
        )
    valid = [_int(_low_bits(complete - 1, j)) for j in range(mw)]
    down = {p: _shift_down(per_user, p, mw) for p in prefixes}
    aggs = {}
    for a in range(len(follow)):
        own = [per_user[f"f{a}_{j}"] for j in range(mw)]
        churn = [band(band(own[j], bnot(down[f"f{a}_"][j])), valid[j]) for j in range(mw)]
        aggs[f"t_{a}"] = _popcount(churn).sum()
        targets = {str(b): down[f"f{b}_"] for b in range(len(follow)) if b != a}
        targets["o"] = down["o"]
        targets["n"] = [bnot(d) for d in down["m"]]
        for b, dest in targets.items():
            hit = [band(churn[j], dest[j]) for j in range(mw)]
            count = _popcount(hit)
            aggs[f"c_{a}_{b}"] = count.sum()
            aggs[f"u_{a}_{b}"] = (count > 0).cast("int64").sum()
    return per_user.aggregate(**aggs)


def _low_bits(n: int, word: int) -> int:
    """Word ``word`` of a mask with positions 0 .. n − 1 set."""
    lo = WORD_BITS * word
    k = min(max(n - lo, 0), WORD_BITS)
    return (1 << k) - 1


def _popcount(words: list[ir.IntegerValue]) -> ir.IntegerValue:
    total = bit_count(words[0])
    for w in words[1:]:
        total = total + bit_count(w)
    return total.cast("int64")
