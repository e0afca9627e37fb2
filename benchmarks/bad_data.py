"""Generated awkward data for the labeler: each case either works end to end or is refused
with a documented error that says what to do.

Shared by ``tests/test_bad_data.py`` (a few dozen cases on every run) and ``benchmarks/faults.py``
(hundreds, on demand).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activelabel_widget import ActiveLabeler
from activelabel_widget.errors import ActiveLabelError, DataError

MEGABYTE_WORDS = "lorem ipsum dolor sit amet " * 38_836  # 1 MB of words
MEGABYTE_RUN = "x" * 1_048_576  # 1 MB without a space
AWKWARD_TEXT = [
    "", " ", "\t\n", "\u200b", "\u200b\u200c\u200d\ufeff", "\u202eevil.exe\u202c", "\u200fשלום עולם\u200f",
    "مرحبا بالعالم", "👩‍👩‍👧‍👦🔥🇺🇦", "e\u0301\u0301\u0301", "a\x00b", "\r\n\r\n", "<script>alert(1)</script>",
    "{{x}} ${x} %s", "NULL", "nan", "None",
]
LABEL_SETS = [["spam", "ham"], ["bug", "feature", "question"], ["✔ yes", "✖ no"], ["עברית", "English", "中文"],
              ["a b", "a  b"]]
# pandas' own hints of a row (e.g. repr(1.0) vs 1) are out of scope; names the output adds are not
COLUMN_NAMES = ["body", "text", "title", 0, 1, 2.5, "naïve", "", " ", "emoji 🔥", "נתונים"]
INSTRUCTION = re.compile(r"\b(pass|use|drop|fill|convert|rename|add|make|restore|close|label|choose|wrap|give|"
                         r"set|check|try|fix|upgrade|remove)\b", re.IGNORECASE)


# -- generators ------------------------------------------------------------------------------------
texts = st.one_of(st.text(max_size=30), st.sampled_from(AWKWARD_TEXT), st.sampled_from([MEGABYTE_WORDS, MEGABYTE_RUN]))
short_texts = st.one_of(st.text(max_size=12), st.sampled_from(AWKWARD_TEXT))
maybe_missing = st.sampled_from([None, np.nan, pd.NA, pd.NaT])


def objects(values) -> np.ndarray:
    """A 1-D object array of exactly these values (numpy would turn tuples or lists into more dimensions)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


@st.composite
def column(draw, n: int):
    """One column of length n, as an array pandas keeps as it is."""
    kind = draw(st.sampled_from(["text", "string", "int", "Int64", "float", "bool", "boolean", "category",
                                 "category-int", "datetime", "datetime-tz", "timedelta", "mixed", "period", "lists"]))
    missing = draw(st.booleans())

    def fill(values):
        return draw(st.lists(st.one_of(values, maybe_missing) if missing else values, min_size=n, max_size=n))

    if kind == "text":
        return kind, objects(fill(texts))
    if kind == "string":
        return kind, pd.array([v if isinstance(v, str) else pd.NA for v in fill(short_texts)], dtype="string")
    if kind == "int":
        return kind, np.array(draw(st.lists(st.integers(-2**62, 2**62), min_size=n, max_size=n)), dtype=np.int64)
    if kind == "Int64":
        return kind, pd.array([v if isinstance(v, int) else pd.NA for v in fill(st.integers(-1000, 1000))], dtype="Int64")
    if kind == "float":
        values = st.floats(allow_nan=missing, allow_infinity=True, width=64)
        return kind, np.array(draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    if kind == "bool":
        return kind, np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "boolean":
        return kind, pd.array([v if isinstance(v, bool) else pd.NA for v in fill(st.booleans())], dtype="boolean")
    if kind == "category":
        return kind, pd.Categorical([v if isinstance(v, str) else None for v in fill(short_texts)])
    if kind == "category-int":
        return kind, pd.Categorical([v if isinstance(v, int) else None for v in fill(st.integers(0, 3))])
    if kind in ("datetime", "datetime-tz"):
        stamps = st.datetimes(min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
                              max_value=pd.Timestamp("2200-01-01").to_pydatetime())
        values = pd.to_datetime([v if isinstance(v, datetime) else pd.NaT for v in fill(stamps)])
        return kind, (values.tz_localize("America/Sao_Paulo", ambiguous="NaT", nonexistent="NaT")
                      if kind == "datetime-tz" else values).array
    if kind == "timedelta":
        return kind, pd.to_timedelta(draw(st.lists(st.integers(-10**6, 10**6), min_size=n, max_size=n)), unit="s").array
    if kind == "period":
        return kind, pd.period_range("2020-01", periods=n, freq="M").array
    if kind == "lists":
        return kind, objects([list(range(i % 3)) if i % 4 != 3 else None for i in range(n)])
    mixed = st.one_of(st.integers(-5, 5), st.floats(allow_nan=True), short_texts, st.none(), st.booleans(),
                      st.just(b"bytes"), st.just((1, "a")), st.just(pd.Timestamp("2021-03-04")))
    return kind, objects(fill(mixed))


def _unique(values, n: int):
    return st.lists(values, min_size=n, max_size=n, unique_by=lambda v: (type(v).__name__, repr(v)))


@st.composite
def index(draw, n: int):
    kind = draw(st.sampled_from(["range", "int", "uint", "float", "str", "datetime", "datetime-tz", "timedelta",
                                 "multi", "tuples", "mixed", "category", "period", "bytes"]))
    if kind == "range":
        start = draw(st.integers(-10**12, 10**12))
        return kind, pd.RangeIndex(start, start + n)

    def values(strategy):
        return draw(_unique(strategy, n))

    if kind == "int":
        return kind, pd.Index(values(st.integers(-2**63, 2**63 - 1)), dtype=np.int64)
    if kind == "uint":
        return kind, pd.Index(values(st.integers(0, 2**64 - 1)), dtype=np.uint64)
    if kind == "float":
        return kind, pd.Index(values(st.floats(allow_nan=True, allow_infinity=True)), dtype=np.float64)
    if kind == "str":
        return kind, pd.Index(values(short_texts), dtype=object)
    if kind in ("datetime", "datetime-tz"):
        stamps = pd.DatetimeIndex(values(st.datetimes(min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
                                                      max_value=pd.Timestamp("2250-01-01").to_pydatetime())))
        return kind, stamps.tz_localize("UTC").tz_convert("Asia/Kathmandu") if kind == "datetime-tz" else stamps
    if kind == "timedelta":
        return kind, pd.to_timedelta(values(st.integers(-10**15, 10**15)), unit="ns")
    if kind == "multi":
        pairs = values(st.tuples(st.one_of(st.integers(-3, 3), st.floats(allow_nan=True)), short_texts))
        return kind, pd.MultiIndex.from_tuples(pairs, names=["level", "name"])
    if kind == "tuples":
        return kind, pd.Index(values(st.tuples(st.integers(0, 3), st.integers(0, 3))), tupleize_cols=False, dtype=object)
    if kind == "category":
        return kind, pd.CategoricalIndex(values(short_texts))
    if kind == "period":
        return kind, pd.period_range("1999-12-31", periods=n, freq="D")
    if kind == "bytes":
        return kind, pd.Index(values(st.binary(max_size=6)), dtype=object)
    mixed = st.one_of(st.integers(-3, 3), st.floats(allow_nan=True), short_texts, st.none(),
                      st.tuples(st.integers(0, 2), st.text(max_size=2)), st.just(pd.Timestamp("2020-02-29")))
    return kind, pd.Index(values(mixed), dtype=object, tupleize_cols=False)


@st.composite
def cases(draw):
    """``(traits, df, options, labels)`` for one labeler; ``traits`` names what the case holds."""
    n = draw(st.integers(1, 7))
    index_kind, keys = draw(index(n))
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=4, unique=True))
    kinds, data = [], {}
    for name in names:
        kind, values = draw(column(n))
        kinds.append(kind)
        data[name] = values
    df = pd.DataFrame(data, index=keys)
    mode = draw(st.sampled_from(["text", "features", "all columns"]))
    options = {}
    if mode == "text":
        # mostly a column of text, sometimes any column (refusing a non-text one is fine)
        textual = [name for name, kind in zip(names, kinds) if kind in ("text", "string", "mixed")]
        options["text"] = draw(st.sampled_from(textual)) if textual and draw(st.booleans()) else draw(st.sampled_from(names))
    elif mode == "features":
        options["features"] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    if draw(st.booleans()):
        options["show"] = draw(st.lists(st.sampled_from(names), max_size=2, unique=True))
    labels = draw(st.sampled_from(LABEL_SETS))
    megabyte = any(isinstance(v, str) and len(v) >= 1_000_000 for name in names for v in df[name].array)
    traits = [f"{index_kind} index", f"mode {mode}"] + [f"{kind} column" for kind in set(kinds)]
    return traits + ["1 MB text"] * megabyte, df, options, labels


# -- one case -------------------------------------------------------------------------------------
def says_what_to_do(error: Exception) -> bool:
    message = str(error)
    return len(message) > 30 and INSTRUCTION.search(message) is not None


def _same_labels(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    columns = ["label", "source", "annotator"]
    return a.index.equals(b.index) and a[columns].astype(object).equals(b[columns].astype(object))


def exercise(df: pd.DataFrame, options: dict, labels: list) -> str:
    """Run one labeler through the whole path; returns the outcome ("worked" or the documented error)."""
    with tempfile.TemporaryDirectory() as folder:
        options = dict(options, labels=labels, store=Path(folder) / "labels.db", background=False, annotator="hyp")
        try:
            labeler = ActiveLabeler(df, **options)
        except ActiveLabelError as error:
            assert says_what_to_do(error), f"{type(error).__name__} does not say what to do: {error}"
            return f"refused: {type(error).__name__}"
        try:
            session = labeler.session
            assert session.current_position is not None, "a fresh labeler must show a record"
            assert session.model_status.state != "error", session.model_status.message

            # the card: its state must cross the wire as JSON, and its label intent must work
            widget = labeler.widget
            card = dict(widget.card)
            json.dumps(card)
            first = session.current_position
            widget.handle_intent({"action": "label", "key": card["key"], "token": card["token"], "label": labels[0]})
            assert widget.error == "", widget.error
            widget.close()
            assert session.labeled.index.equals(df.index[[first]])

            # more labels, until a model is fitted when there are rows enough
            last = first
            for label in (labels[0], labels[1], labels[1]):
                position = session.current_position  # not session.current: an index value may be None
                if position is None:
                    break
                session.label(session.dataset.index_value(position), label)
                last = position
            assert session.model_status.state != "error", session.model_status.message
            made = len(session.labeled)
            assert made == min(4, len(df))

            undone = session.undo()  # the last label: its record comes back on the card
            assert session.current_position == last and df.index.get_loc(undone) == last
            assert len(session.labeled) == made - 1
            session.label(session.dataset.index_value(last), labels[-1])

            labeled = labeler.labeled
            frame = labeler.to_frame()
            assert frame.index.equals(df.index) and frame["label"].notna().sum() == made
            kept = [name for name in df.columns if name in frame.columns]
            assert frame[kept].equals(df[kept]), "to_frame() changed the user's columns"
            labeler.close()

            again = ActiveLabeler(df, **options)
            try:
                assert _same_labels(again.labeled, labeled), "a restart did not restore the labels"
                resumed = again.session.current_position
                assert resumed is None or pd.isna(again.to_frame()["label"].iloc[resumed]), "resumed on a labeled row"
            finally:
                again.close()
            return "worked"
        except ActiveLabelError as error:
            assert says_what_to_do(error), f"{type(error).__name__} does not say what to do: {error}"
            return f"refused later: {type(error).__name__}"
        finally:
            labeler.close()


def run_cases(max_examples: int, *, seed: int = 0, traits: Counter | None = None) -> Counter:
    """Run ``max_examples`` generated cases; returns how many ended each way (failures raise).

    ``traits``, when given, counts what the cases held (index kinds, column kinds, modes).
    """
    outcomes: Counter = Counter()

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=seed == 0,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
              print_blob=True)
    @given(case=cases())
    def check(case):
        held, df, options, labels = case
        outcomes[exercise(df, options, labels)] += 1
        if traits is not None:
            traits.update(held)

    if seed:
        from hypothesis import seed as hypothesis_seed

        check = hypothesis_seed(seed)(check)
    check()
    return outcomes


def describe(outcomes: Counter) -> str:
    ways = ", ".join(f"{way}: {count}" for way, count in outcomes.most_common())
    return f"{sum(outcomes.values())} generated cases ran ({ways})"


