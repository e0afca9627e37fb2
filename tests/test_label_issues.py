"""Likely label errors: confident learning on out-of-fold probabilities, ranked, with a hand-off frame."""

import numpy as np
import pandas as pd
import pytest

from activelabel_widget.label_issues import LabelIssues, find_label_issues, label_issue_frame

# 12 rows, 3 classes, 4 rows each. Row 3 is labeled 0 but looks like 1; row 7 is labeled 1 but looks
# like 2; row 11 is labeled 2 and is merely unsure (its most probable class is 1, but not confidently).
LABELS = np.repeat([0, 1, 2], 4)
PROBA = np.array([
    [0.80, 0.10, 0.10],
    [0.70, 0.20, 0.10],
    [0.90, 0.05, 0.05],
    [0.10, 0.80, 0.10],  # flip: labeled 0
    [0.10, 0.80, 0.10],
    [0.20, 0.70, 0.10],
    [0.10, 0.90, 0.00],
    [0.15, 0.05, 0.80],  # flip: labeled 1
    [0.10, 0.10, 0.80],
    [0.05, 0.15, 0.80],
    [0.00, 0.10, 0.90],
    [0.10, 0.50, 0.40],  # unsure: labeled 2
])


def test_a_small_example_flags_what_the_rule_gives_by_hand():
    # thresholds: mean p_j over rows labeled j
    t0 = (0.80 + 0.70 + 0.90 + 0.10) / 4  # 0.625
    t1 = (0.80 + 0.70 + 0.90 + 0.05) / 4  # 0.6125
    t2 = (0.80 + 0.80 + 0.90 + 0.40) / 4  # 0.725
    assert (t0, t1, t2) == pytest.approx((0.625, 0.6125, 0.725))
    # confident classes: rows 0-2 -> 0 (p0 >= t0); row 3 -> 1 (0.80 >= t1); rows 4-6 -> 1; row 7 -> 2
    # (0.80 >= t2); rows 8-10 -> 2; row 11 -> none (0.10 < t0, 0.50 < t1, 0.40 < t2)
    # confident joint [[3, 1, 0], [0, 3, 1], [0, 0, 3]]; calibrated to 4 rows per label: the last row becomes [0, 0, 4]
    expected_joint = np.array([[3, 1, 0], [0, 3, 1], [0, 0, 4]])
    # prune by noise rate: 1 row labeled 0 with the largest p1 - p0 (row 3: +0.70), 1 row labeled 1 with the
    # largest p2 - p1 (row 7: +0.75); nothing labeled 2, so row 11 stays although its argmax is 1
    # rank by 1 - p(label): row 7 (1 - 0.05 = 0.95) before row 3 (1 - 0.10 = 0.90)
    issues = find_label_issues(LABELS, PROBA)

    assert issues.reason is None
    np.testing.assert_array_equal(issues.joint, expected_joint)
    assert issues.flagged.tolist() == [7, 3]
    assert issues.score[[7, 3]] == pytest.approx([0.95, 0.90])
    assert issues.suggested[[7, 3]].tolist() == [2, 1]
    assert PROBA[11].argmax() != LABELS[11] and 11 not in issues.flagged


def test_calibration_scales_the_number_flagged_to_the_size_of_the_label():
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    proba = np.array([
        [1.00, 0.00], [1.00, 0.00], [0.10, 0.90], [0.40, 0.60], [0.60, 0.40], [0.55, 0.45],
        [0.10, 0.90], [0.20, 0.80], [0.05, 0.95], [0.15, 0.85],
    ])
    # t0 = (1 + 1 + 0.1 + 0.4 + 0.6 + 0.55) / 6 = 0.6083, t1 = (0.9 + 0.8 + 0.95 + 0.85) / 4 = 0.875
    # labeled 0: rows 0, 1 confidently 0, row 2 confidently 1 (0.90 >= 0.875), rows 3-5 neither -> [2, 1]
    # calibrated to the 6 rows labeled 0: [4, 2] -> flag the 2 rows with the largest p1 - p0: rows 2 (+0.8), 3 (+0.2)
    issues = find_label_issues(labels, proba)

    np.testing.assert_array_equal(issues.joint, [[4, 2], [0, 4]])
    assert issues.flagged.tolist() == [2, 3]
    assert issues.score[[2, 3]] == pytest.approx([0.90, 0.60])


def test_a_row_the_model_agrees_with_is_never_flagged_even_when_its_class_is_pruned():
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    proba = np.array([
        [1.00, 0.00], [1.00, 0.00], [0.10, 0.90], [0.55, 0.45], [0.60, 0.40], [0.58, 0.42],
        [0.10, 0.90], [0.20, 0.80], [0.05, 0.95], [0.15, 0.85],
    ])
    # the same counts as above ([4, 2] for label 0), but the second-largest margin (row 3) has p0 > p1
    issues = find_label_issues(labels, proba)

    np.testing.assert_array_equal(issues.joint, [[4, 2], [0, 4]])
    assert issues.flagged.tolist() == [2]


def test_rows_no_fold_scored_are_never_flagged_and_score_nan():
    labels = np.append(LABELS, [1, 0])
    proba = np.vstack([PROBA, np.full((2, 3), np.nan)])
    issues = find_label_issues(labels, proba)

    assert issues.flagged.tolist() == [7, 3]  # the NaN rows change no threshold and no count
    assert np.isnan(issues.score[12:]).all()
    assert issues.suggested[12:].tolist() == [-1, -1]
    assert not np.isnan(issues.score[:12]).any()


def test_too_few_labels_flag_nothing_and_say_why():
    labels = np.array([0, 0, 0, 1, 2])
    proba = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    issues = find_label_issues(labels, proba)

    assert issues.flagged.size == 0
    assert issues.joint is None
    assert "too few labels" in issues.reason and "at least 2" in issues.reason
    # row 1 is labeled 0 and looks like 1, but one label with two rows is no basis for saying so
    assert issues.suggested[1] == 1


def test_nan_rows_do_not_count_towards_enough_labels():
    labels = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [np.nan, np.nan]])
    issues = find_label_issues(labels, proba)

    assert issues.flagged.size == 0
    assert "3 of 4 rows scored" in issues.reason


def test_flagged_rows_are_ranked_by_score_highest_first():
    rng = np.random.default_rng(3)
    truth = np.repeat(np.arange(4), 50)
    logits = rng.normal(size=(200, 4))
    logits[np.arange(200), truth] += 3.0
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = truth.copy()
    flipped = rng.choice(200, size=20, replace=False)
    labels[flipped] = (labels[flipped] + 1) % 4
    issues = find_label_issues(labels, proba)

    assert issues.flagged.size >= 10
    scores = issues.score[issues.flagged]
    assert (np.diff(scores) <= 0).all()
    assert issues.top(5).tolist() == issues.flagged[:5].tolist()
    # most of what is flagged was flipped
    assert np.isin(issues.flagged, flipped).mean() > 0.6


def test_the_callers_arrays_are_never_changed_and_the_result_is_read_only():
    labels = LABELS.copy()
    proba = PROBA.astype(np.float32)
    proba_before = proba.copy()
    issues = find_label_issues(labels, proba)

    np.testing.assert_array_equal(labels, LABELS)
    np.testing.assert_array_equal(proba, proba_before)
    with pytest.raises(ValueError):
        issues.flagged[0] = 0
    with pytest.raises(ValueError):
        issues.labels[0] = 2
    labels[0] = 2  # nor does the result follow later changes to the caller's array
    assert issues.labels[0] == 0


@pytest.mark.parametrize(
    ("labels", "proba", "message"),
    [
        (LABELS, PROBA[:, 0], r"oof_proba must have shape \(n_labeled, n_classes\).*cross_validate"),
        (LABELS[:-1], PROBA, r"labels must have shape \(12,\).*same labeled rows"),
        (LABELS.astype(float), PROBA, r"integer label codes 0\.\.2.*not the label names"),
        (np.append(LABELS[:-1], 3), PROBA, r"codes in 0\.\.2.*leave unlabeled rows \(code -1\) out"),
        (np.append(LABELS[:-1], -1), PROBA, r"codes in 0\.\.2"),
    ],
)
def test_wrong_shapes_and_codes_are_refused_with_what_to_pass(labels, proba, message):
    with pytest.raises(ValueError, match=message):
        find_label_issues(labels, proba)


def test_min_per_class_below_two_is_refused():
    with pytest.raises(ValueError, match="min_per_class must be at least 2"):
        find_label_issues(LABELS, PROBA, min_per_class=1)


def test_a_label_below_min_per_class_is_neither_flagged_nor_a_destination():
    # with min_per_class=5 no label has a threshold: nothing is flagged
    assert find_label_issues(LABELS, PROBA, min_per_class=5).flagged.size == 0
    # label 2 short of rows: row 7 (labeled 1, looks like 2) cannot be counted as 2 any more
    labels = np.append(LABELS, [0, 1])
    proba = np.vstack([PROBA, [[0.9, 0.05, 0.05], [0.1, 0.85, 0.05]]])
    issues = find_label_issues(labels, proba, min_per_class=5)
    assert 7 not in issues.flagged and issues.joint[1, 2] == 0
    assert issues.flagged.tolist() == [3]


def test_top_k_gives_at_most_the_flagged_rows():
    issues = find_label_issues(LABELS, PROBA)
    assert issues.top(1).tolist() == [7]
    assert issues.top(10).tolist() == [7, 3]
    assert issues.top(0).size == 0
    with pytest.raises(ValueError, match="k >= 0"):
        issues.top(-1)


def test_the_hand_off_frame_lists_flagged_rows_by_key_in_rank_order():
    keys = pd.Index([f"r{i}" for i in range(12)], name="review_id")
    issues = find_label_issues(LABELS, PROBA)
    frame = label_issue_frame(keys, ["positive", "negative", "plot"], issues)

    assert frame.index.tolist() == ["r7", "r3"]
    assert frame.index.name == "review_id"
    assert frame.columns.tolist() == ["label", "suggested", "score"]
    assert frame["label"].tolist() == ["negative", "positive"]
    assert frame["suggested"].tolist() == ["plot", "negative"]
    assert frame["score"].tolist() == pytest.approx([0.95, 0.90])


def test_the_hand_off_frame_refuses_keys_or_names_that_do_not_fit():
    issues = find_label_issues(LABELS, PROBA)
    with pytest.raises(ValueError, match="keys has 11 entries.*12 labeled rows"):
        label_issue_frame(range(11), ["a", "b", "c"], issues)
    with pytest.raises(ValueError, match="label_names has 2 names"):
        label_issue_frame(range(12), ["a", "b"], issues)


def test_the_result_says_which_rule_it_used():
    issues = find_label_issues(LABELS, PROBA)
    assert isinstance(issues, LabelIssues)
    assert "confident learning" in issues.rule and "noise rate" in issues.rule
