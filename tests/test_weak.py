"""Weak supervision: labeling functions, the label matrix, its summary, and weak labels."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from activelabel_widget.errors import DataError, LabelError
from activelabel_widget.weak import (
    METHODS,
    LabelingFunction,
    WeakLabels,
    aggregate,
    apply_heuristics,
    conflict_scores,
    keywords,
    labeling_function,
    model_votes,
    promote,
    regex,
    summarize,
)

LABELS = ["bug", "feature", "question"]


@pytest.fixture
def tickets():
    return pd.DataFrame(
        {
            "body": [
                "App crashed on start",
                "How do I export?",
                "Please add dark mode",
                "Traceback when saving",
                "how can i sync",
                None,
                "crash, then how do I recover?",
            ],
            "length": [20, 16, 20, 21, 14, 0, 29],
            "odd name": [1, 2, 3, 4, 5, 6, 7],
        },
        index=[f"t{i}" for i in range(7)],
    )


# --- labeling functions and the label matrix -------------------------------------------------


def test_decorator_builds_a_named_labeling_function():
    @labeling_function(label="bug")
    def mentions_crash(row):
        return "crash" in row.body.lower()

    assert isinstance(mentions_crash, LabelingFunction)
    assert (mentions_crash.name, mentions_crash.label, mentions_crash.vectorized) == ("mentions_crash", "bug", False)

    @labeling_function(name="by_len", vectorized=True)
    def by_length(df):
        return None

    assert (by_length.name, by_length.label, by_length.vectorized) == ("by_len", None, True)

    @labeling_function
    def bare(row):
        return None

    assert (bare.name, bare.label) == ("bare", None)


def test_labeling_function_is_frozen():
    lf = LabelingFunction("a", "bug", lambda row: True)
    with pytest.raises(AttributeError):
        lf.label = "feature"


def test_a_bool_label_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="label name"):
        LabelingFunction("a", True, lambda row: True)


def test_row_gives_attribute_item_and_key_access(tickets):
    seen = []

    @labeling_function()
    def look(row):
        seen.append((row.Index, row.length, row["odd name"], row["body"]))
        return None

    apply_heuristics([look], tickets, LABELS)
    assert seen[0] == ("t0", 20, 1, "App crashed on start")
    assert len(seen) == len(tickets)


def test_row_wise_abstains_on_false_none_and_nan():
    df = pd.DataFrame({"x": range(7)})
    outputs = [True, False, None, np.nan, pd.NA, np.True_, np.False_]

    @labeling_function(label="feature")
    def pick(row):
        return outputs[row.x]

    result = apply_heuristics([pick], df, LABELS)
    assert result.errors == {}
    assert result.matrix[:, 0].tolist() == [1, -1, -1, -1, -1, 1, -1]


def test_row_wise_may_return_label_names():
    df = pd.DataFrame({"x": range(4)})

    @labeling_function()
    def name_it(row):
        return [None, "question", "bug", True][row.x] if row.x < 3 else None

    result = apply_heuristics([name_it], df, LABELS)
    assert result.matrix[:, 0].tolist() == [-1, 2, 0, -1]


def test_vectorised_returns_names_or_a_mask():
    df = pd.DataFrame({"n": [1, 5, 9, 3]})

    @labeling_function(vectorized=True)
    def by_size(df):
        return pd.Series(np.where(df.n > 4, "feature", None), index=df.index)

    @labeling_function(label="bug", vectorized=True)
    def small(df):
        return df.n < 4

    @labeling_function(label="question", vectorized=True)
    def nullable(df):
        return pd.Series([True, pd.NA, False, True], dtype="boolean", index=df.index)

    result = apply_heuristics([by_size, small, nullable], df, LABELS)
    assert result.errors == {}
    assert result.matrix.tolist() == [[-1, 0, 2], [1, -1, -1], [1, -1, -1], [-1, 0, 2]]
    assert result.matrix.dtype == np.int16
    assert result.names == ["by_size", "small", "nullable"]


def test_vectorised_series_is_aligned_by_index():
    df = pd.DataFrame({"n": [1, 5, 9]}, index=["a", "b", "c"])

    @labeling_function(vectorized=True)
    def reversed_order(df):
        return pd.Series(["bug", None, "question"], index=["c", "b", "a"])

    assert apply_heuristics([reversed_order], df, LABELS).matrix[:, 0].tolist() == [2, -1, 0]


def test_vectorised_with_wrong_length_or_index_is_reported():
    df = pd.DataFrame({"n": [1, 5, 9]})

    @labeling_function(vectorized=True)
    def too_short(df):
        return ["bug", "bug"]

    @labeling_function(vectorized=True)
    def foreign_index(df):
        return pd.Series(["bug"] * 3, index=[10, 11, 12])

    result = apply_heuristics([too_short, foreign_index], df, LABELS)
    assert "returned 2 values for 3 rows" in result.errors["too_short"]
    assert "index is not the DataFrame's" in result.errors["foreign_index"]
    assert (result.matrix == -1).all()


def test_vectorised_and_row_wise_give_the_same_matrix(tickets):
    @labeling_function(label="bug")
    def crash_rows(row):
        return isinstance(row.body, str) and "crash" in row.body.lower()

    @labeling_function()
    def size_rows(row):
        return "feature" if row.length > 19 else None

    @labeling_function(vectorized=True)
    def size_vec(df):
        return pd.Series(np.where(df.length > 19, "feature", None), index=df.index)

    rowwise = apply_heuristics([crash_rows, size_rows], tickets, LABELS).matrix
    vectorised = apply_heuristics([keywords("bug", column="body", words=["crash"]), size_vec], tickets, LABELS).matrix
    np.testing.assert_array_equal(rowwise, vectorised)
    assert rowwise[:, 0].tolist() == [0, -1, -1, -1, -1, -1, 0]


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.one_of(st.none(), st.text(alphabet="aBcX .?\n", max_size=12)), min_size=1, max_size=30),
    words=st.lists(st.text(alphabet="aBcX .?", min_size=1, max_size=3), min_size=1, max_size=3),
)
def test_keywords_match_a_plain_substring_test(texts, words):
    df = pd.DataFrame({"body": pd.Series(texts, dtype=object)})

    @labeling_function(label="bug")
    def by_hand(row):
        return isinstance(row.body, str) and any(w.lower() in row.body.lower() for w in words)

    expected = apply_heuristics([by_hand], df, LABELS).matrix
    got = apply_heuristics([keywords("bug", column="body", words=words)], df, LABELS).matrix
    np.testing.assert_array_equal(got, expected)


def test_keywords_are_case_insensitive_by_default_and_options_work(tickets):
    def votes(lf):
        return apply_heuristics([lf], tickets, LABELS).matrix[:, 0].tolist()

    assert votes(keywords("bug", column="body", words=["CRASH", "traceback"])) == [0, -1, -1, 0, -1, -1, 0]
    assert votes(keywords("bug", column="body", words=["Traceback"], case=True)) == [-1, -1, -1, 0, -1, -1, -1]
    assert votes(keywords("bug", column="body", words=["traceback"], case=True)) == [-1] * 7
    assert votes(keywords("bug", column="body", words=["crash"], whole_words=True)) == [-1] * 6 + [0]
    assert votes(keywords("bug", column="body", words=["a.d"])) == [-1] * 7  # no regex syntax


def test_regex_searches_case_insensitively_by_default(tickets):
    how_to = regex(label="question", column="body", pattern=r"^how (do|can) i")
    result = apply_heuristics([how_to], tickets, LABELS)
    assert result.errors == {}
    assert result.matrix[:, 0].tolist() == [-1, 2, -1, -1, 2, -1, -1]
    strict = regex("question", column="body", pattern=r"^how (do|can) i", case=True)
    assert apply_heuristics([strict], tickets, LABELS).matrix[:, 0].tolist() == [-1, -1, -1, -1, 2, -1, -1]


def test_text_rules_reject_bad_arguments_early():
    with pytest.raises(ValueError, match="invalid regular expression"):
        regex("bug", column="body", pattern="(unclosed")
    with pytest.raises(TypeError, match="wrap it in a list"):
        keywords("bug", column="body", words="crash")
    with pytest.raises(ValueError, match="non-empty"):
        keywords("bug", column="body", words=[])


def test_text_rule_on_a_missing_column_is_reported(tickets):
    result = apply_heuristics([keywords("bug", column="text", words=["crash"])], tickets, LABELS)
    (message,) = result.errors.values()
    assert "KeyError" in message and "'text'" in message and "'body'" in message


def test_raising_heuristic_is_reported_and_the_others_still_apply(tickets):
    @labeling_function(label="bug")
    def fragile(row):
        return "crash" in row.body.lower()  # body is None on one row

    @labeling_function(label="feature", vectorized=True)
    def broken(df):
        return df.no_such_column > 1

    @labeling_function(label="question")
    def asks(row):
        return isinstance(row.body, str) and row.body.endswith("?")

    result = apply_heuristics([fragile, broken, asks], tickets, LABELS)
    assert set(result.errors) == {"fragile", "broken"}
    assert "AttributeError" in result.errors["fragile"]
    assert "1 of 7 rows" in result.errors["fragile"] and "'t5'" in result.errors["fragile"]
    assert "AttributeError" in result.errors["broken"] and "no_such_column" in result.errors["broken"]
    assert "7 rows" in result.errors["broken"]
    assert (result.matrix[:, :2] == -1).all()
    assert result.matrix[:, 2].tolist() == [-1, 2, -1, -1, -1, -1, 2]


def test_error_counts_every_failing_row():
    df = pd.DataFrame({"n": [0, 1, 0, 2, 0]})

    @labeling_function(label="bug")
    def inverse(row):
        return 1 / row.n > 0.7

    message = apply_heuristics([inverse], df, LABELS).errors["inverse"]
    assert message.startswith("ZeroDivisionError: division by zero")
    assert "3 of 5 rows" in message and "first at row 0" in message


def test_unknown_label_vote_lists_the_known_labels():
    df = pd.DataFrame({"n": [1, 2, 3]})

    @labeling_function()
    def typo(row):
        return "bgu" if row.n > 1 else "bug"

    result = apply_heuristics([typo], df, LABELS)
    message = result.errors["typo"]
    assert "'bgu' (2 rows)" in message
    assert "'bug', 'feature', 'question'" in message
    assert (result.matrix == -1).all()


def test_declared_label_must_be_known():
    @labeling_function(label="praise")
    def kind(row):
        return True

    result = apply_heuristics([kind], pd.DataFrame({"n": [1]}), LABELS)
    assert "'praise'" in result.errors["kind"] and "'question'" in result.errors["kind"]


def test_true_without_a_declared_label_is_an_error():
    @labeling_function()
    def unlabeled(row):
        return True

    result = apply_heuristics([unlabeled], pd.DataFrame({"n": [1]}), LABELS)
    assert "declared without a label" in result.errors["unlabeled"]


def test_duplicate_names_and_plain_functions_are_refused(tickets):
    a = keywords("bug", column="body", words=["x"], name="same")
    b = keywords("bug", column="body", words=["y"], name="same")
    with pytest.raises(ValueError, match="named 'same'"):
        apply_heuristics([a, b], tickets, LABELS)
    with pytest.raises(TypeError, match="labeling_function"):
        apply_heuristics([lambda row: True], tickets, LABELS)
    with pytest.raises(LabelError):
        apply_heuristics([a], tickets, [])
    with pytest.raises(DataError):
        apply_heuristics([a], tickets.to_numpy(), LABELS)


def test_progress_reports_about_every_percent_and_ends_at_total():
    df = pd.DataFrame({"n": range(1000)})
    calls = []

    @labeling_function(label="bug")
    def even(row):
        return row.n % 2 == 0

    apply_heuristics([even], df, LABELS, progress=lambda done, total: calls.append((done, total)))
    assert 90 <= len(calls) <= 110
    assert calls[-1] == (1000, 1000)
    assert all(total == 1000 for _, total in calls)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_an_exception_in_progress_cancels_the_run():
    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    with pytest.raises(Cancelled):
        always = labeling_function(label="bug")(lambda row: True)
        apply_heuristics([always], pd.DataFrame({"n": range(10)}), LABELS, progress=cancel)


def test_empty_dataframe_gives_an_empty_matrix():
    empty = pd.DataFrame({"body": pd.Series([], dtype=str)})
    result = apply_heuristics([keywords("bug", column="body", words=["x"])], empty, LABELS)
    assert result.matrix.shape == (0, 1)


# --- weak classifiers' votes ----------------------------------------------------------------


def test_model_votes_only_where_confident():
    proba = [[0.9, 0.05, 0.05], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8], [np.nan, np.nan, np.nan]]
    assert model_votes(proba).tolist() == [0, -1, 2, -1]
    assert model_votes(proba, threshold=0.5).tolist() == [0, 0, 2, -1]
    assert model_votes(proba).dtype == np.int16
    with pytest.raises(ValueError, match="threshold"):
        model_votes(proba, threshold=0)
    with pytest.raises(DataError, match="shape"):
        model_votes([0.2, 0.8])


# --- summary ---------------------------------------------------------------------------------

# a: votes 0,0,1 on rows 0,1,4; b: 0,1,1 on rows 0,1,2; c: 1,2 on rows 2,3; d never votes
SMALL = np.array(
    [
        [0, 0, -1, -1],
        [0, 1, -1, -1],
        [-1, 1, 1, -1],
        [-1, -1, 2, -1],
        [1, -1, -1, -1],
        [-1, -1, -1, -1],
    ]
)
SMALL_HAND = np.array([0, -1, 1, 2, 0, 1])


def test_summary_matches_hand_computation():
    table = summarize(SMALL, ["a", "b", "c", "d"], hand_codes=SMALL_HAND, n_classes=3, labels=LABELS)
    assert list(table.columns) == ["labels", "coverage", "overlaps", "conflicts", "n_checked", "correct", "accuracy"]
    assert list(table.index) == ["a", "b", "c", "d"]
    assert table["labels"].tolist() == [["bug", "feature"], ["bug", "feature"], ["feature", "question"], []]
    # coverage: a votes on 3 of 6 rows, b on 3, c on 2, d on none
    np.testing.assert_allclose(table["coverage"], [3 / 6, 3 / 6, 2 / 6, 0])
    # rows with two or more votes: 0 (a, b), 1 (a, b), 2 (b, c)
    np.testing.assert_allclose(table["overlaps"], [2 / 6, 3 / 6, 1 / 6, 0])
    # only row 1 has votes for two different labels (a: 0, b: 1)
    np.testing.assert_allclose(table["conflicts"], [1 / 6, 1 / 6, 0, 0])
    # hand labels on rows 0, 2, 3, 4, 5: a is right on row 0, wrong on row 4; b right on 0 and 2; c on 2 and 3
    assert table["n_checked"].tolist() == [2, 2, 2, 0]
    assert table["correct"].tolist() == [1, 2, 2, 0]
    np.testing.assert_allclose(table["accuracy"], [0.5, 1.0, 1.0, np.nan])


def test_summary_without_label_names_shows_codes():
    table = summarize(SMALL, list("abcd"), hand_codes=np.full(6, -1), n_classes=3)
    assert table.loc["c", "labels"] == [1, 2]
    assert table["accuracy"].isna().all()


def test_summary_rejects_mismatched_inputs():
    with pytest.raises(DataError, match="names"):
        summarize(SMALL, ["a"], hand_codes=SMALL_HAND, n_classes=3)
    with pytest.raises(DataError, match="n_classes=2"):
        summarize(SMALL, list("abcd"), hand_codes=SMALL_HAND, n_classes=2)
    with pytest.raises(DataError, match="hand_codes"):
        summarize(SMALL, list("abcd"), hand_codes=SMALL_HAND[:3], n_classes=3)


# --- aggregation -----------------------------------------------------------------------------


def test_majority_on_a_hand_example():
    weak = aggregate(SMALL, n_classes=3, method="majority")
    # row 0: two votes for 0; row 1: 0 vs 1 tie -> abstain; row 2: two for 1; rows 3, 4: one vote; row 5: none
    assert weak.codes.tolist() == [0, -1, 1, 2, 1, -1]
    assert weak.votes.tolist() == [2, 2, 2, 1, 1, 0]
    # confidence = (votes for the winner + 1) / (votes + K)
    np.testing.assert_allclose(weak.confidence, [3 / 5, np.nan, 3 / 5, 2 / 4, 2 / 4, np.nan])
    assert weak.method == "majority"


@pytest.mark.parametrize("method", METHODS)
def test_uncovered_rows_stay_unlabeled(method):
    weak = aggregate(SMALL, n_classes=3, hand_codes=SMALL_HAND, method=method)
    assert weak.codes[5] == -1
    assert math.isnan(weak.confidence[5])
    assert np.isnan(weak.proba[5]).all()
    assert (weak.codes[:5] >= -1).all() and weak.votes[5] == 0


def test_weighted_follows_hand_computed_posterior():
    # a is right on all 6 checked rows, b on 1 of 6: accuracies (6 + 2.8) / 10 and (1 + 2.8) / 10
    a = [0, 1, 0, 0, 0, 1, 0]
    b = [1, 0, 1, 1, 1, 1, 1]
    hand = [0, 1, 0, 0, 0, 1, -1]
    weak = aggregate(np.array([a, b]).T, n_classes=2, hand_codes=hand, method="weighted")
    np.testing.assert_allclose(weak.accuracies, [0.88, 0.38])
    # b is worse than chance: weight 0, so row 6 follows a alone, under a uniform class prior
    assert weak.codes[6] == 0
    np.testing.assert_allclose(weak.confidence[6], 0.88)
    # row 0: a votes 0 (odds 0.88 / 0.12), b votes 1 with weight 0
    np.testing.assert_allclose(weak.confidence[0], 0.88)


def test_weighted_without_hand_labels_is_majority_at_the_prior_accuracy():
    matrix = np.array([[0, 0, -1], [0, 1, 2], [2, 2, 1], [-1, -1, 1]])
    weak = aggregate(matrix, n_classes=3, method="weighted")
    np.testing.assert_array_equal(weak.codes, aggregate(matrix, n_classes=3, method="majority").codes)
    # each vote multiplies its label's odds by 0.7 * (3 - 1) / 0.3
    ratio = 0.7 * 2 / 0.3
    np.testing.assert_allclose(
        weak.confidence, [ratio**2 / (ratio**2 + 2), np.nan, ratio**2 / (ratio**2 + ratio + 1), ratio / (ratio + 2)]
    )


def test_weighted_does_not_trust_two_lucky_votes():
    matrix = np.array([[0], [0], [0], [1]])
    weak = aggregate(matrix, n_classes=2, hand_codes=[0, 0, -1, -1], method="weighted")
    np.testing.assert_allclose(weak.accuracies, [(2 + 2.8) / 6])
    np.testing.assert_allclose(weak.confidence[2:], [0.8, 0.8])


def correlated_case(seed=0, n=3000):
    """One good heuristic (90% right) and two bad ones (35% right) that copy each other."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, n)
    good = np.where(rng.random(n) < 0.9, truth, 1 - truth)
    bad = np.where(rng.random(n) < 0.35, truth, 1 - truth)
    copy = np.where(rng.random(n) < 0.9, bad, 1 - bad)
    hand = np.full(n, -1)
    checked = rng.choice(n, 100, replace=False)
    hand[checked] = truth[checked]
    return np.stack([good, bad, copy], axis=1), truth, hand


def test_weighted_beats_majority_with_correlated_bad_heuristics():
    matrix, truth, hand = correlated_case()
    unlabeled = hand < 0
    majority = aggregate(matrix, n_classes=2, hand_codes=hand, method="majority")
    weighted = aggregate(matrix, n_classes=2, hand_codes=hand, method="weighted")
    majority_accuracy = (majority.codes[unlabeled] == truth[unlabeled]).mean()
    weighted_accuracy = (weighted.codes[unlabeled] == truth[unlabeled]).mean()
    assert majority_accuracy < 0.5
    assert weighted_accuracy > 0.85
    assert weighted.accuracies[0] > 0.8 and (weighted.accuracies[1:] < 0.5).all()


def independent_case(seed=0, n=4000, accuracies=(0.9, 0.8, 0.75, 0.7, 0.65), coverage=0.6, n_classes=3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n)
    columns = []
    for accuracy in accuracies:
        wrong = (truth + rng.integers(1, n_classes, n)) % n_classes
        vote = np.where(rng.random(n) < accuracy, truth, wrong)
        columns.append(np.where(rng.random(n) < coverage, vote, -1))
    return np.stack(columns, axis=1), truth


def test_dawid_skene_learns_accuracies_without_hand_labels():
    matrix, truth = independent_case()
    weak = aggregate(matrix, n_classes=3, method="dawid_skene")
    majority = aggregate(matrix, n_classes=3, method="majority")
    covered = weak.votes > 0
    np.testing.assert_allclose(weak.accuracies, [0.9, 0.8, 0.75, 0.7, 0.65], atol=0.05)
    decided = weak.codes >= 0
    assert (weak.codes[decided] == truth[decided]).mean() > (majority.codes[covered] == truth[covered]).mean()
    assert decided.sum() == covered.sum()  # continuous posteriors: no ties to abstain on


def test_dawid_skene_copes_with_many_heuristics():
    # 30 heuristics over 6 outcomes: too many distinct rows to number them in one integer
    matrix, truth = independent_case(seed=2, n=1500, accuracies=(0.8, 0.7, 0.65) * 10, coverage=0.5, n_classes=5)
    weak = aggregate(matrix, n_classes=5, method="dawid_skene")
    decided = weak.codes >= 0
    assert decided.mean() > 0.99
    assert (weak.codes[decided] == truth[decided]).mean() > 0.95


def test_confidence_tracks_correctness():
    matrix, truth = independent_case(seed=1)
    for method in METHODS:
        weak = aggregate(matrix, n_classes=3, method=method)
        decided = weak.codes >= 0
        confident = decided & (weak.confidence >= np.nanmedian(weak.confidence))
        unsure = decided & ~confident
        assert (weak.codes[confident] == truth[confident]).mean() > (weak.codes[unsure] == truth[unsure]).mean()


def test_aggregate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="'weighted', 'majority', 'dawid_skene'"):
        aggregate(SMALL, n_classes=3, method="snorkel")
    with pytest.raises(DataError, match="code 2 but n_classes=2"):
        aggregate(SMALL, n_classes=2)
    with pytest.raises(DataError, match="below -1"):
        aggregate([[-2, 0]], n_classes=2)
    with pytest.raises(DataError, match="2-d"):
        aggregate([0, 1], n_classes=2)
    with pytest.raises(ValueError, match="prior_accuracy"):
        aggregate(SMALL, n_classes=3, prior_accuracy=1.0)


# --- promotion and conflicts -----------------------------------------------------------------


def test_promote_never_selects_hand_labeled_rows():
    matrix = np.array([[0, 0], [1, 1], [1, -1], [-1, -1], [0, 0]])
    hand = np.array([-1, 1, -1, -1, 0])
    weak = aggregate(matrix, n_classes=2, method="majority")
    assert promote(weak, hand_codes=hand, min_confidence=0.7).tolist() == [True, False, False, False, False]
    assert promote(weak, hand_codes=hand, min_confidence=0.0).tolist() == [True, False, True, False, False]


def test_promote_checks_its_inputs():
    weak = aggregate(SMALL, n_classes=3)
    with pytest.raises(ValueError, match="min_confidence"):
        promote(weak, hand_codes=SMALL_HAND, min_confidence=1.5)
    with pytest.raises(DataError, match="hand_codes"):
        promote(weak, hand_codes=SMALL_HAND[:2], min_confidence=0.5)
    with pytest.raises(TypeError, match="WeakLabels"):
        promote(SMALL, hand_codes=SMALL_HAND, min_confidence=0.5)


def test_conflict_scores_by_hand():
    matrix = [
        [0, 0, -1, -1],  # agree
        [0, -1, -1, -1],  # one vote
        [-1, -1, -1, -1],  # none
        [0, 1, -1, -1],  # 1-1 split: every pair disagrees
        [0, 0, 1, -1],  # 2-1: 2 of 3 pairs disagree
        [0, 0, 0, 2],  # 3-1: 3 of 6 pairs
        [0, 0, 1, 1],  # 2-2: 4 of 6 pairs
    ]
    np.testing.assert_allclose(conflict_scores(matrix), [0, 0, 0, 1, 2 / 3, 1 / 2, 2 / 3])


# --- properties --------------------------------------------------------------------------------


@st.composite
def label_matrices(draw, max_rows=40, max_heuristics=6):
    n_classes = draw(st.integers(1, 4))
    n_rows = draw(st.integers(0, max_rows))
    n_heuristics = draw(st.integers(1, max_heuristics))
    matrix = draw(hnp.arrays(np.int16, (n_rows, n_heuristics), elements=st.integers(-1, n_classes - 1)))
    hand = draw(hnp.arrays(np.int64, (n_rows,), elements=st.integers(-1, n_classes - 1)))
    return matrix, hand, n_classes


@settings(max_examples=80, deadline=None)
@given(case=label_matrices(), method=st.sampled_from(METHODS), use_hand=st.booleans())
def test_aggregate_properties(case, method, use_hand):
    matrix, hand, n_classes = case
    matrix_before, hand_before = matrix.copy(), hand.copy()
    weak = aggregate(matrix, n_classes=n_classes, hand_codes=hand if use_hand else None, method=method)
    np.testing.assert_array_equal(matrix, matrix_before)
    np.testing.assert_array_equal(hand, hand_before)
    n_rows = len(matrix)
    assert isinstance(weak, WeakLabels)
    assert weak.codes.shape == weak.confidence.shape == weak.votes.shape == (n_rows,)
    assert weak.proba.shape == (n_rows, n_classes)
    assert weak.accuracies.shape == (matrix.shape[1],)
    assert ((weak.codes >= -1) & (weak.codes < n_classes)).all()
    np.testing.assert_array_equal(weak.votes, (matrix >= 0).sum(axis=1))
    assert (weak.codes[weak.votes == 0] == -1).all()
    assert np.array_equal(np.isnan(weak.confidence), weak.codes == -1)
    decided = weak.codes >= 0
    assert ((weak.confidence[decided] >= 0) & (weak.confidence[decided] <= 1)).all()
    covered = weak.votes > 0
    np.testing.assert_allclose(weak.proba[covered].sum(axis=1), 1.0)
    if decided.any():
        assert (weak.proba[decided].argmax(axis=1) == weak.codes[decided]).all()
    mask = promote(weak, hand_codes=hand, min_confidence=0.5)
    assert mask.dtype == bool and mask.shape == (n_rows,)
    assert not (mask & (hand >= 0)).any()
    assert (weak.codes[mask] >= 0).all() and (weak.confidence[mask] >= 0.5).all()


@settings(max_examples=80, deadline=None)
@given(case=label_matrices())
def test_summary_and_conflict_properties(case):
    matrix, hand, n_classes = case
    before = matrix.copy()
    names = [f"h{j}" for j in range(matrix.shape[1])]
    table = summarize(matrix, names, hand_codes=hand, n_classes=n_classes)
    scores = conflict_scores(matrix)
    np.testing.assert_array_equal(matrix, before)
    assert len(table) == matrix.shape[1]
    assert (table["conflicts"] <= table["overlaps"] + 1e-12).all()
    assert (table["overlaps"] <= table["coverage"] + 1e-12).all()
    assert (table["correct"] <= table["n_checked"]).all()
    checked = table["n_checked"] > 0
    assert table.loc[checked, "accuracy"].between(0, 1).all() and table.loc[~checked, "accuracy"].isna().all()
    assert scores.shape == (len(matrix),)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert (scores[(matrix >= 0).sum(axis=1) < 2] == 0).all()
    one_label = np.array([len(set(row[row >= 0])) <= 1 for row in matrix], dtype=bool)
    assert (scores[one_label] == 0).all() and (scores[~one_label] > 0).all()


@settings(max_examples=60, deadline=None)
@given(
    proba=hnp.arrays(np.float64, st.tuples(st.integers(0, 20), st.integers(1, 5)), elements=st.floats(0, 1)),
    threshold=st.floats(0.05, 1.0),
)
def test_model_votes_properties(proba, threshold):
    before = proba.copy()
    votes = model_votes(proba, threshold=threshold)
    np.testing.assert_array_equal(proba, before)
    assert votes.shape == (proba.shape[0],)
    assert ((votes >= -1) & (votes < proba.shape[1])).all()
    voted = votes >= 0
    assert (proba[voted, votes[voted]] >= threshold).all()
    assert (proba[~voted].max(axis=1, initial=0) < threshold).all()


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.sampled_from(["bug", "feature", None, "question"]), min_size=0, max_size=25))
def test_apply_does_not_modify_the_dataframe_and_codes_stay_in_range(values):
    df = pd.DataFrame({"label_hint": pd.Series(values, dtype=object), "n": range(len(values))})
    before = df.copy()

    @labeling_function()
    def echo(row):
        return row.label_hint

    @labeling_function(vectorized=True)
    def echo_all(df):
        return df.label_hint

    result = apply_heuristics([echo, echo_all, keywords("bug", column="label_hint", words=["u"])], df, LABELS)
    pd.testing.assert_frame_equal(df, before)
    assert result.errors == {}
    assert result.matrix.shape == (len(values), 3)
    assert ((result.matrix >= -1) & (result.matrix < len(LABELS))).all()
    np.testing.assert_array_equal(result.matrix[:, 0], result.matrix[:, 1])
    expected = [LABELS.index(v) if v is not None else -1 for v in values]
    assert result.matrix[:, 0].tolist() == expected
    assert re.fullmatch(r"keywords\(label_hint: u\)", result.names[2])
