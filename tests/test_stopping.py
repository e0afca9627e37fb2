"""Stop hint: fires when stop-set predictions stabilise and accuracy levels off, never on too few labels."""

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from activelabel_widget.stopping import StopHint, cohen_kappa, stop_hint

COUNTS = np.array([40, 35, 12])
NAMES = ["positive", "negative", "plot"]


def stop_set_predictions(changed_per_fit, n=1000, seed=0):
    """Predictions of successive fits on a fixed stop set: each fit changes ``changed_per_fit[i]`` rows."""
    rng = np.random.default_rng(seed)
    current = rng.integers(0, 3, size=n)
    fits = [current.copy()]
    for changed in changed_per_fit:
        current = current.copy()
        rows = rng.choice(n, size=changed, replace=False)
        current[rows] = (current[rows] + 1) % 3
        fits.append(current)
    return fits


def test_kappa_matches_scikit_learn_on_random_labels():
    rng = np.random.default_rng(1)
    for trial in range(50):
        k = int(rng.integers(2, 6))
        n = int(rng.integers(5, 300))
        a = rng.integers(0, k, size=n)
        b = np.where(rng.random(n) < rng.random(), a, rng.integers(0, k, size=n))
        assert cohen_kappa(a, b, k) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_kappa_of_two_identical_constant_predictions_is_one_and_of_two_different_constants_zero():
    same = np.full(20, 2)
    assert cohen_kappa(same, same, 3) == 1.0
    assert cohen_kappa(np.zeros(20, int), np.ones(20, int), 3) == 0.0


def test_kappa_refuses_vectors_that_do_not_pair_up():
    with pytest.raises(ValueError, match="same length"):
        cohen_kappa(np.zeros(3, int), np.zeros(4, int), 2)
    with pytest.raises(ValueError, match=r"integer label codes in 0\.\.1"):
        cohen_kappa(np.array([0, 2]), np.array([0, 1]), 2)


def test_fires_on_stable_predictions_with_a_levelled_learning_curve():
    fits = stop_set_predictions([300, 200, 100, 2, 1, 0])
    accuracies = [0.60, 0.72, 0.80, 0.84, 0.845, 0.842, 0.847]
    hint = stop_hint(fits, accuracies, COUNTS, label_names=NAMES)

    assert isinstance(hint, StopHint)
    assert hint.ready
    assert len(hint.kappas) == 6
    assert min(hint.kappas[-3:]) >= 0.99 and hint.kappas[0] < 0.9
    # at fit 5 the pair of fits 2-3 (100 rows changed) is still in the window of three; at fit 6 the
    # pairs 3-4, 4-5, 5-6 agree and the best of fits 4-6 (84.7%) is 0.7 points above the 84% before them
    assert hint.fired_at_fit == 6


def test_fired_at_fit_is_the_start_of_the_run_of_fits_where_the_hint_held():
    fits = stop_set_predictions([300, 1, 1, 1, 0, 0])
    accuracies = [0.70, 0.75, 0.80, 0.84, 0.845, 0.842, 0.845]
    hint = stop_hint(fits, accuracies, COUNTS)
    # predictions agree from fit 4 on (pairs 1-2, 2-3, 3-4); accuracy: at fit 4 the best of fits 2-4 (84.5%)
    # is 9.5 points above 75%, at fit 5 the best of 3-5 (84.5%) 4.5 points above 80%, at fit 6 the best of
    # 4-6 (84.5%) 0.5 points above 84%: level from fit 6
    assert hint.ready and hint.fired_at_fit == 6
    # a curve level from fit 3: agreement is then what holds it back, until fit 4
    hint = stop_hint(fits, [0.84, 0.84, 0.845, 0.842, 0.844, 0.843, 0.845], COUNTS)
    assert hint.ready and hint.fired_at_fit == 4


def test_does_not_fire_while_predictions_keep_changing():
    fits = stop_set_predictions([300, 250, 200, 150, 100, 80])
    accuracies = [0.80, 0.81, 0.81, 0.81, 0.81, 0.81, 0.81]
    hint = stop_hint(fits, accuracies, COUNTS)

    assert not hint.ready and hint.fired_at_fit is None
    lowest = min(hint.kappas[-3:])
    assert lowest < 0.99
    assert "still changing" in hint.message
    assert f"{lowest:.3f}" in hint.message and "last 3 fits" in hint.message and "0.99 needed" in hint.message


def test_does_not_fire_while_accuracy_is_still_rising():
    fits = stop_set_predictions([300, 1, 0, 1, 0])
    accuracies = [0.60, 0.65, 0.70, 0.75, 0.80, 0.85]
    hint = stop_hint(fits, accuracies, COUNTS)

    assert not hint.ready
    assert "still rising" in hint.message and "85.0%" in hint.message and "70.0%" in hint.message


def test_accuracies_that_are_none_are_left_out_of_the_plateau():
    fits = stop_set_predictions([0, 0, 0, 0, 0])
    hint = stop_hint(fits, [None, None, 0.80, None, 0.80, 0.81], COUNTS)
    assert not hint.ready and "too few accuracy estimates" in hint.message
    hint = stop_hint(fits, [None, 0.80, 0.80, None, 0.80, 0.81], COUNTS)
    assert hint.ready


def test_never_fires_below_the_per_class_minimum_and_names_the_short_labels():
    fits = stop_set_predictions([0, 0, 0, 0, 0])
    accuracies = [0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    assert stop_hint(fits, accuracies, np.array([40, 35, 5]), label_names=NAMES).ready
    hint = stop_hint(fits, accuracies, np.array([40, 3, 4]), label_names=NAMES)

    assert not hint.ready and hint.fired_at_fit is None
    assert hint.message.startswith("too few labels of negative and plot to judge")
    assert "needs 5" in hint.message and "3 of negative" in hint.message
    assert hint.kappas == [1.0] * 5  # the agreement is still reported


def test_too_few_fits_say_how_many_are_needed():
    hint = stop_hint(stop_set_predictions([0, 0]), [0.8, 0.8, 0.8], COUNTS)
    assert not hint.ready
    assert "4 fits" in hint.message and "been 3" in hint.message


def test_the_ready_message_says_the_numbers():
    fits = stop_set_predictions([300, 0, 0, 0])
    accuracies = [0.80, 0.853, 0.851, 0.85, 0.852]
    hint = stop_hint(fits, accuracies, COUNTS)

    assert hint.ready
    assert hint.message == ("predictions have stopped changing (agreement at least 1.000 over the last 3 fits) and "
                            "accuracy has levelled off (best 85.2% over the last 3 fits against 85.3% before): "
                            "more labels are unlikely to help much")


def test_the_threshold_and_window_are_the_callers():
    fits = stop_set_predictions([300, 20, 20, 20])  # kappa about 0.97 between the last fits
    accuracies = [0.8, 0.8, 0.8, 0.8, 0.8]
    assert not stop_hint(fits, accuracies, COUNTS).ready
    assert stop_hint(fits, accuracies, COUNTS, kappa_threshold=0.95).ready
    assert not stop_hint(fits, accuracies, COUNTS, kappa_threshold=0.95, windows=4).ready


def test_inputs_that_do_not_line_up_are_refused():
    fits = stop_set_predictions([0, 0, 0])
    with pytest.raises(ValueError, match="one entry per fit"):
        stop_hint(fits, [0.8, 0.8], COUNTS)
    with pytest.raises(ValueError, match="same rows"):
        stop_hint(fits[:3] + [fits[3][:10]], [0.8] * 4, COUNTS)
    with pytest.raises(ValueError, match="one name per label code"):
        stop_hint(fits, [0.8] * 4, COUNTS, label_names=["a", "b"])
