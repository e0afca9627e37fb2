"""Headless simulation: label with an oracle, one query at a time, and record a learning curve."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.utils.validation import check_is_fitted

from activelabel_widget.simulate import area_under_curve, main, simulate
from activelabel_widget.strategies import STRATEGIES


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_the_curve_runs_from_the_first_labels_to_the_budget(iris):
    X, y = iris
    curve = simulate(X, y, strategy="margin", budget=30, initial=5)
    assert curve.columns.tolist() == ["n_labels", "accuracy", "stop_hint", "strategy", "seed"]
    assert curve.n_labels.tolist() == list(range(5, 31))
    assert curve.accuracy.between(0, 1).all()
    assert (curve.strategy == "margin").all() and (curve.seed == 0).all()


def test_a_step_adds_that_many_labels_per_round(iris):
    X, y = iris
    curve = simulate(X, y, strategy="hybrid", budget=31, initial=10, step=5)
    assert curve.n_labels.tolist() == [10, 15, 20, 25, 30, 31]


def test_the_budget_is_capped_at_the_pool(iris):
    X, y = iris
    curve = simulate(X, y, strategy="random", budget=10_000, initial=100, step=50,
                     test_size=0.3)
    assert curve.n_labels.iloc[-1] == 105  # 70% of 150 rows


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_runs_and_is_deterministic_under_random_state(iris, strategy):
    X, y = iris
    a = simulate(X, y, strategy=strategy, budget=20, initial=4, random_state=3)
    b = simulate(X, y, strategy=strategy, budget=20, initial=4, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert a.n_labels.is_monotonic_increasing and a.n_labels.is_unique


def test_another_seed_gives_another_run(iris):
    X, y = iris
    a = simulate(X, y, strategy="random", budget=20, initial=4, random_state=0)
    b = simulate(X, y, strategy="random", budget=20, initial=4, random_state=1)
    assert not a.accuracy.equals(b.accuracy)


def test_the_users_estimator_is_never_fitted(iris):
    X, y = iris
    model, evaluator = LogisticRegression(max_iter=500), LogisticRegression(max_iter=400)
    simulate(X, y, model=model, evaluate_with=evaluator, budget=15, initial=5)
    for estimator in (model, evaluator):
        with pytest.raises(NotFittedError):
            check_is_fitted(estimator)


def test_margin_sampling_in_the_session_learns_faster_than_random_on_digits(digits):
    X, y = digits
    auc = {s: [area_under_curve(c.n_labels, c.accuracy)
               for c in (simulate(X, y, strategy=s, budget=70, step=5, random_state=r)
                         for r in range(2))]
           for s in ("margin", "random")}
    # the product's session, refitting every 5 labels: measured gap 0.06 of accuracy-area
    assert np.mean(auc["margin"]) - np.mean(auc["random"]) > 0.03
    assert all(m > r for m, r in zip(auc["margin"], auc["random"]))


def test_text_is_labeled_by_the_products_own_text_features():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 60)
    words = np.array([f"w{j}" for j in range(40)])
    texts = [" ".join(rng.choice(words[5:], 6)) + (" w0 w1 w2" if label else "") for label in y]
    counts = sp.csr_matrix(np.array([[t.split().count(w) for w in words] for t in texts], dtype=float))
    curve = simulate(counts, y, data=pd.DataFrame({"body": texts}), text="body", strategy="hybrid",
                     evaluate_with=MultinomialNB(), budget=25, initial=4)
    assert curve.n_labels.iloc[-1] == 25
    assert curve.accuracy.iloc[-1] > 0.8


def test_sparse_features_without_the_records_get_a_clear_error():
    X = sp.csr_matrix(np.eye(20))
    with pytest.raises(ValueError, match="pass the records themselves as data="):
        simulate(X, np.repeat([0, 1], 10))


def test_the_oracle_drives_a_real_labeling_session(iris, monkeypatch):
    """The records asked come from the product's session: its line, its model, its ranking."""
    from activelabel_widget import session as session_module

    asked = []
    original = session_module.LabelingSession.label

    def spy(self, key, label, **options):
        asked.append((self.strategy, self.retrain_every, self.store_path, key == self.current))
        return original(self, key, label, **options)

    monkeypatch.setattr(session_module.LabelingSession, "label", spy)
    X, y = iris
    simulate(X, y, strategy="margin", budget=15, initial=5, step=2)
    assert asked and all(entry == ("margin", 2, ":memory:", True) for entry in asked)


def test_dataframes_and_custom_embeddings_and_metrics_work(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    curve = simulate(frame, y, strategy="diversity", budget=12, initial=3,
                     embeddings=X[:, :2], metric="balanced_accuracy")
    assert curve.columns.tolist() == ["n_labels", "balanced_accuracy", "stop_hint", "strategy", "seed"]


def test_the_committee_strategy_runs_with_a_committee_of_models(iris):
    from sklearn.naive_bayes import GaussianNB

    X, y = iris
    curve = simulate(X, y, strategy="committee", model=[LogisticRegression(max_iter=500), GaussianNB()],
                     budget=20, initial=6)
    assert curve.n_labels.tolist() == list(range(6, 21))


def test_bad_inputs_get_clear_errors(iris):
    X, y = iris
    with pytest.raises(ValueError, match="strategy='uncertainty' is not known"):
        simulate(X, y, strategy="uncertainty")
    with pytest.raises(ValueError, match="one label per row"):
        simulate(X, y[:-1])
    with pytest.raises(ValueError, match="numeric"):
        simulate(pd.DataFrame({"text": ["a"] * 150}), y)
    with pytest.raises(ValueError, match="at least two rows"):
        simulate(X[:51], y[:51])
    with pytest.raises(ValueError, match="initial"):
        simulate(X, y, initial=0)


def test_area_under_curve_is_the_trapezoid_mean():
    assert area_under_curve([10, 20, 30], [0.5, 0.7, 0.7]) == pytest.approx(0.65)
    assert area_under_curve([10], [0.4]) == 0.4


def test_the_command_line_prints_a_summary(capsys):
    assert main(["--dataset", "iris", "--strategy", "margin", "--budget", "20",
                 "--seeds", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("margin on iris, 1 seeds, AUC")
