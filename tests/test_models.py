"""Weak classifiers: clones are fitted, probabilities follow the label list, bad models are named."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from activelabel_widget import models
from activelabel_widget.errors import ActiveLabelError, ModelError
from activelabel_widget.models import (
    CrossValidated,
    FittedCommittee,
    cross_val_accuracy,
    cross_validate,
    default_model,
    fit_committee,
    predict_proba,
    ready_to_train,
)


def blobs(n_per_class=10, classes=(0, 1, 2), seed=0):
    """Well separated clusters, one per label code."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(loc=4.0 * c, scale=0.3, size=(n_per_class, 2)) for c in classes])
    y = np.repeat(np.asarray(classes), n_per_class)
    return X, y


class Fixed(ClassifierMixin, BaseEstimator):
    """A classifier whose classes_ and outputs are set by the test (fit keeps them)."""

    def __init__(self, classes=(0, 1), rows=None):
        self.classes = classes
        self.rows = rows

    def fit(self, X, y):
        if self.classes is not None:
            self.classes_ = np.asarray(self.classes)
        return self

    def predict_proba(self, X):
        return np.tile(np.asarray(self.rows, dtype=float), (X.shape[0], 1))


class NoClasses(Fixed):
    def fit(self, X, y):
        return self


class DecisionOnly(ClassifierMixin, BaseEstimator):
    """Decision values only, in the order of classes_ (which the test may reverse)."""

    def __init__(self, classes=(0, 1), scores=None):
        self.classes = classes
        self.scores = scores

    def fit(self, X, y):
        self.classes_ = np.asarray(self.classes)
        return self

    def decision_function(self, X):
        return np.tile(np.asarray(self.scores, dtype=float), (X.shape[0],) + (1,) * (np.ndim(self.scores)))


class PredictOnly(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(X.shape[0], dtype=int)


class Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("out of memory")


class BrokenScoring(Fixed):
    def predict_proba(self, X):
        raise RuntimeError("cannot score")


def proba_of(estimator, X=None, *, n_classes=2, y=None):
    X = np.zeros((3, 2)) if X is None else X
    y = np.zeros(len(X), dtype=int) if y is None else y
    mean, each = predict_proba(fit_committee([estimator], X, y, n_classes=n_classes), X)
    assert each is None
    return mean


# -- defaults --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, C", [("text", 10.0), ("image", 1.0), ("table", 1.0)])
def test_the_default_model_is_a_balanced_logistic_regression_per_kind(kind, C):
    model = default_model(kind)
    assert isinstance(model, LogisticRegression)
    assert model.C == C
    assert model.class_weight == "balanced"
    assert model.max_iter >= 1000


def test_the_text_model_solves_on_the_used_columns_and_scores_like_the_full_fit():
    from scipy import sparse

    rng = np.random.default_rng(0)
    X = sparse.random(120, 5000, density=0.004, format="lil", random_state=0, dtype=np.float64)
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, size=120)]
    X[np.flatnonzero(y == "a"), 7] = 2.0  # one column that tells "a" apart
    X = X.tocsr()
    train, rest = np.arange(80), np.arange(80, 120)
    used = models.UsedColumnsLogisticRegression(C=10.0, solver="newton-cg", max_iter=1000, class_weight="balanced")
    used.fit(X[train], y[train])
    full = LogisticRegression(C=10.0, solver="newton-cg", max_iter=1000, class_weight="balanced").fit(X[train], y[train])
    assert used.coef_.shape == full.coef_.shape == (3, 5000)
    unused = np.setdiff1d(np.arange(5000), X[train].indices)
    assert not used.coef_[:, unused].any() and np.abs(full.coef_[:, unused]).max() < 1e-6
    assert np.abs(used.predict_proba(X[rest]) - full.predict_proba(X[rest])).max() < 1e-3
    dense = models.UsedColumnsLogisticRegression().fit(X[train].toarray(), y[train])  # dense rows: a plain fit
    assert dense.coef_.shape == (3, 5000)


def test_each_call_gives_a_fresh_default_model():
    assert default_model("text") is not default_model("text")


@pytest.mark.parametrize("counts, ready", [
    ([], False),
    ([5], False),
    ([2, 1], False),
    ([1, 1, 1, 1], False),
    ([2, 2], True),
    ([0, 2, 0, 3], True),
    ([100, 1, 0], False),
])
def test_training_starts_once_two_labels_have_two_examples_each(counts, ready):
    assert ready_to_train(np.asarray(counts)) is ready


def test_ready_to_train_accepts_a_plain_list():
    assert ready_to_train([2, 2]) is True


# -- fitting ---------------------------------------------------------------------------------------

def test_fit_committee_never_fits_the_users_estimator_in_place():
    X, y = blobs()
    users = LogisticRegression()
    committee = fit_committee([users], X, y, n_classes=3)
    with pytest.raises(NotFittedError):
        check_is_fitted(users)
    (fitted,) = committee.estimators
    assert fitted is not users
    check_is_fitted(fitted)
    assert committee.n_classes == 3


def test_fit_committee_fits_every_member_in_order():
    X, y = blobs()
    members = [LogisticRegression(), KNeighborsClassifier(n_neighbors=3)]
    committee = fit_committee(members, X, y, n_classes=3)
    assert isinstance(committee, FittedCommittee)
    assert [type(m) for m in committee.estimators] == [LogisticRegression, KNeighborsClassifier]
    for member in committee.estimators:
        check_is_fitted(member)


def test_refitting_gives_a_new_clone_each_time():
    X, y = blobs()
    users = LogisticRegression()
    first = fit_committee([users], X, y, n_classes=3).estimators[0]
    second = fit_committee([users], X[:20], y[:20], n_classes=3).estimators[0]
    assert first is not second
    assert list(first.classes_) == [0, 1, 2] and list(second.classes_) == [0, 1]


def test_a_failing_fit_is_a_model_error_naming_the_estimator_and_the_cause():
    X, y = blobs()
    with pytest.raises(ModelError, match=r"Broken\.fit failed: RuntimeError: out of memory") as caught:
        fit_committee([LogisticRegression(), Broken()], X, y, n_classes=3)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert isinstance(caught.value, ActiveLabelError)


# -- probabilities ---------------------------------------------------------------------------------

def test_probabilities_are_float32_rows_that_sum_to_one_per_label():
    X, y = blobs()
    mean, each = predict_proba(fit_committee([LogisticRegression()], X, y, n_classes=3), X)
    assert mean.shape == (len(X), 3) and mean.dtype == np.float32
    assert each is None
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, atol=1e-5)
    assert (mean.argmax(axis=1) == y).all()


def test_labels_the_model_has_not_seen_get_zero_probability():
    X, y = blobs(classes=(0, 2))
    mean = proba_of(LogisticRegression(), X, n_classes=4, y=y)
    assert mean.shape == (len(X), 4)
    assert (mean[:, [1, 3]] == 0).all()
    assert (mean.argmax(axis=1) == y).all()  # column 2 is label 2, not the model's second column
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("classes, rows, expected", [
    ((0, 1, 2), (0.7, 0.2, 0.1), (0.7, 0.2, 0.1)),
    ((2, 0, 1), (0.7, 0.2, 0.1), (0.2, 0.1, 0.7)),
    ((1, 0), (0.9, 0.1), (0.1, 0.9, 0.0)),
    ((2,), (1.0,), (0.0, 0.0, 1.0)),
])
def test_columns_follow_the_label_list_whatever_order_classes_has(classes, rows, expected):
    mean = proba_of(Fixed(classes, rows), n_classes=3)
    np.testing.assert_allclose(mean, np.tile(expected, (3, 1)), atol=1e-6)


def test_float_class_codes_are_accepted():
    mean = proba_of(Fixed((1.0, 0.0), (0.25, 0.75)))
    np.testing.assert_allclose(mean[0], [0.75, 0.25])


def test_probabilities_that_do_not_sum_to_one_are_normalised():
    mean = proba_of(Fixed((0, 1), (2.0, 6.0)))
    np.testing.assert_allclose(mean[0], [0.25, 0.75])


def test_a_rounding_error_below_zero_is_clipped_not_refused():
    mean = proba_of(Fixed((0, 1), (-1e-9, 1.0)))
    assert (mean >= 0).all()
    np.testing.assert_allclose(mean[0], [0.0, 1.0], atol=1e-6)


def test_the_committee_mean_is_the_average_of_its_members():
    X, y = blobs()
    members = [Fixed((0, 1, 2), (0.6, 0.3, 0.1)), Fixed((2, 1, 0), (0.6, 0.3, 0.1))]
    mean, each = predict_proba(fit_committee(members, X, y, n_classes=3), X)
    assert each.shape == (2, len(X), 3) and each.dtype == np.float32
    np.testing.assert_allclose(each[0, 0], [0.6, 0.3, 0.1], atol=1e-6)
    np.testing.assert_allclose(each[1, 0], [0.1, 0.3, 0.6], atol=1e-6)
    np.testing.assert_allclose(mean, each.mean(axis=0), atol=1e-6)


def test_scoring_in_chunks_gives_the_same_probabilities(monkeypatch):
    X, y = blobs(n_per_class=15)
    committee = fit_committee([LogisticRegression(), KNeighborsClassifier(3)], X, y, n_classes=3)
    whole_mean, whole_each = predict_proba(committee, X)
    monkeypatch.setattr(models, "_SCORE_CHUNK", 7)
    chunked_mean, chunked_each = predict_proba(committee, X)
    np.testing.assert_array_equal(chunked_mean, whole_mean)
    np.testing.assert_array_equal(chunked_each, whole_each)


def test_an_empty_pool_gives_empty_probabilities():
    X, y = blobs()
    mean, each = predict_proba(fit_committee([LogisticRegression()], X, y, n_classes=3), X[:0])
    assert mean.shape == (0, 3)


def test_sparse_features_are_scored():
    from scipy import sparse

    X, y = blobs()
    Xs = sparse.csr_matrix(np.abs(X))
    mean, _ = predict_proba(fit_committee([LogisticRegression()], Xs, y, n_classes=3), Xs)
    assert mean.shape == (len(y), 3)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, atol=1e-5)


# -- models without probabilities ------------------------------------------------------------------

@pytest.mark.parametrize("classes", [(0, 1), (0, 1, 2)])
def test_a_decision_function_model_gets_probabilities_that_keep_its_ranking(classes):
    X, y = blobs(classes=classes)
    committee = fit_committee([LinearSVC()], X, y, n_classes=3)
    mean, _ = predict_proba(committee, X)
    assert mean.shape == (len(X), 3)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0, atol=1e-5)
    assert (mean >= 0).all()
    np.testing.assert_array_equal(mean.argmax(axis=1), committee.estimators[0].predict(X))


def test_a_binary_decision_value_is_for_the_second_class_in_classes_():
    mean = proba_of(DecisionOnly((1, 0), 2.0))  # positive: classes_[1], which is label 0
    assert mean[0, 0] > 0.9 > 0.1 > mean[0, 1]


def test_multiclass_decision_values_map_through_classes_():
    mean = proba_of(DecisionOnly((2, 0, 1), (5.0, 0.0, -5.0)), n_classes=3)
    assert list(np.argsort(-mean[0])) == [2, 0, 1]


def test_huge_decision_values_do_not_overflow():
    mean = proba_of(DecisionOnly((0, 1, 2), (1e300, -1e300, 0.0)), n_classes=3)
    np.testing.assert_allclose(mean[0], [1.0, 0.0, 0.0])


def test_decision_values_of_the_wrong_shape_are_refused():
    with pytest.raises(ModelError, match="shape"):
        proba_of(DecisionOnly((0, 1, 2), 1.0), n_classes=3)


def test_non_finite_decision_values_are_refused():
    with pytest.raises(ModelError, match="NaN or infinite"):
        proba_of(DecisionOnly((0, 1, 2), (np.nan, 0.0, 1.0)), n_classes=3)


def test_a_model_without_probabilities_or_decision_values_is_refused_with_advice():
    X, y = blobs()
    with pytest.raises(ModelError, match="PredictOnly has neither predict_proba nor decision_function.*Calibrated"):
        predict_proba(fit_committee([PredictOnly()], X, y, n_classes=3), X)


# -- models that break the contract ----------------------------------------------------------------

def test_a_model_without_classes_is_refused():
    with pytest.raises(ModelError, match="NoClasses has no classes_"):
        proba_of(NoClasses((0, 1), (0.5, 0.5)))


@pytest.mark.parametrize("classes", [
    ("0", "1"),
    ("bug", "feature"),
    (0, 0),
    (0, 2),
    (-1, 0),
    (0.5, 1.0),
    ((0, 1), (1, 0)),
])
def test_classes_that_are_not_the_label_codes_are_refused(classes):
    rows = (0.5, 0.5)
    with pytest.raises(ModelError, match=r"Fixed\.classes_ is .* not the label codes 0\.\.1"):
        proba_of(Fixed(classes, rows), n_classes=2)


def test_negative_probabilities_are_refused():
    with pytest.raises(ModelError, match="Fixed returned negative probabilities"):
        proba_of(Fixed((0, 1), (-0.5, 1.5)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_probability_rows_are_refused_and_counted(bad):
    class SomeNaN(Fixed):
        def predict_proba(self, X):
            out = np.full((X.shape[0], 2), 0.5)
            out[::2, 1] = bad
            return out

    with pytest.raises(ModelError, match=r"SomeNaN returned NaN or infinite probabilities for 3 of 5 rows"):
        proba_of(SomeNaN(), np.zeros((5, 2)))


def test_probabilities_of_the_wrong_shape_are_refused():
    with pytest.raises(ModelError, match=r"shape \(3, 3\), expected \(3, 2\)"):
        proba_of(Fixed((0, 1), (0.2, 0.3, 0.5)))


def test_a_scoring_failure_is_a_model_error_naming_the_estimator():
    with pytest.raises(ModelError, match=r"BrokenScoring\.predict_proba failed: RuntimeError: cannot score") as caught:
        proba_of(BrokenScoring((0, 1), (0.5, 0.5)))
    assert isinstance(caught.value.__cause__, RuntimeError)


# -- cross-validation ------------------------------------------------------------------------------

def test_cross_validation_on_separable_labels_is_accurate_and_out_of_fold():
    X, y = blobs(n_per_class=8)
    checked = cross_validate([LogisticRegression()], X, y, n_classes=3)
    assert isinstance(checked, CrossValidated)
    assert checked.accuracy == 1.0
    assert checked.proba.shape == (len(y), 3) and checked.proba.dtype == np.float32
    assert np.isfinite(checked.proba).all()
    np.testing.assert_allclose(checked.proba.sum(axis=1), 1.0, atol=1e-5)
    assert checked.each is None


def test_cross_validation_accuracy_is_the_out_of_fold_hit_rate():
    X, y = blobs(n_per_class=6)
    y = y.copy()
    y[[0, 6, 12]] = [1, 2, 0]  # three rows labeled against their cluster
    checked = cross_validate([LogisticRegression()], X, y, n_classes=3)
    assert checked.accuracy == pytest.approx(float((checked.proba.argmax(axis=1) == y).mean()))
    assert checked.accuracy < 1.0


@pytest.mark.parametrize("y", [
    [],
    [0],
    [0, 1],
    [0, 0, 0, 1],
    [0, 1, 2, 3],
])
def test_too_few_labels_give_no_estimate(y):
    y = np.asarray(y, dtype=int)
    X = np.arange(2 * len(y), dtype=float).reshape(len(y), 2)
    checked = cross_validate([LogisticRegression()], X, y, n_classes=4)
    assert checked.accuracy is None and checked.proba is None and checked.each is None
    assert cross_val_accuracy([LogisticRegression()], X, y, n_classes=4) is None


def test_two_labels_with_two_examples_each_are_enough_for_an_estimate():
    X = np.array([[0.0], [0.1], [5.0], [5.1]])
    y = np.array([0, 0, 1, 1])
    checked = cross_validate([LogisticRegression()], X, y, n_classes=2)
    assert checked.accuracy is not None and 0.0 <= checked.accuracy <= 1.0
    assert np.isfinite(checked.proba).all()


def test_rows_of_a_label_with_one_example_are_left_out():
    X, y = blobs(n_per_class=4, classes=(0, 1))
    X = np.vstack([X, [[100.0, 100.0]]])
    y = np.append(y, 2)
    checked = cross_validate([LogisticRegression()], X, y, n_classes=3)
    assert checked.accuracy == 1.0  # graded on the rows that could be split into folds
    assert np.isnan(checked.proba[-1]).all()
    assert np.isfinite(checked.proba[:-1]).all()


def test_cross_validation_gives_each_members_out_of_fold_probabilities():
    X, y = blobs(n_per_class=6)
    members = [LogisticRegression(), KNeighborsClassifier(n_neighbors=3)]
    checked = cross_validate(members, X, y, n_classes=3)
    assert checked.each.shape == (2, len(y), 3)
    np.testing.assert_allclose(checked.proba, checked.each.mean(axis=0), atol=1e-6)


def test_cross_validation_does_not_fit_the_users_estimator():
    X, y = blobs(n_per_class=6)
    users = LogisticRegression()
    cross_validate([users], X, y, n_classes=3)
    with pytest.raises(NotFittedError):
        check_is_fitted(users)


def test_cross_validation_is_repeatable_with_a_random_state():
    X, y = blobs(n_per_class=6, seed=3)
    y = y.copy()
    y[::4] = (y[::4] + 1) % 3
    a = cross_validate([LogisticRegression()], X, y, n_classes=3, random_state=7)
    b = cross_validate([LogisticRegression()], X, y, n_classes=3, random_state=7)
    assert a.accuracy == b.accuracy
    np.testing.assert_array_equal(a.proba, b.proba)


def test_a_model_that_cannot_work_on_a_folds_share_gives_no_estimate_rather_than_an_error():
    X, y = blobs(n_per_class=3, classes=(0, 1))
    model = KNeighborsClassifier(n_neighbors=5)  # 6 labels: fine on all, too few on a fold
    assert cross_validate([model], X, y, n_classes=2).accuracy is None
    mean, _ = predict_proba(fit_committee([model], X, y, n_classes=2), X)
    assert mean.shape == (6, 2)


def test_cross_val_accuracy_is_the_cross_validated_accuracy():
    X, y = blobs(n_per_class=5)
    assert cross_val_accuracy([LogisticRegression()], X, y, n_classes=3) == \
        cross_validate([LogisticRegression()], X, y, n_classes=3).accuracy == 1.0


def test_cross_validation_uses_at_most_five_folds(monkeypatch):
    seen = []
    real = models.fit_committee

    def counting(*args, **kwargs):
        seen.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(models, "fit_committee", counting)
    X, y = blobs(n_per_class=20)
    cross_validate([LogisticRegression()], X, y, n_classes=3)
    assert len(seen) == 5
    seen.clear()
    X, y = blobs(n_per_class=3)
    cross_validate([LogisticRegression()], X, y, n_classes=3)
    assert len(seen) == 3  # the smallest label's count bounds the folds
