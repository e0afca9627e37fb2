"""Agreement between annotators, checked against hand computations and scikit-learn."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from activelabel_widget.agreement import agreement_table, cohen_kappa, disagreements, fleiss_kappa, krippendorff_alpha


def test_cohens_kappa_by_hand_and_as_scikit_learn_computes_it():
    ana = ["a", "a", "a", "b", "b", "c", "c", "a"]
    ben = ["a", "a", "b", "b", "b", "c", "a", "a"]
    # observed 6/8; chance: a .5*.5 + b .25*.375 + c .25*.125 = .375; (0.75 - .375) / .625 = 0.6
    assert cohen_kappa(ana, ben) == pytest.approx(0.6)
    assert cohen_kappa(ana, ben) == pytest.approx(cohen_kappa_score(ana, ben))
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))


def test_fleiss_kappa_by_hand():
    # three records, three annotators each: [3 a], [2 a + 1 b], [3 b]
    counts = np.array([[3, 0], [2, 1], [0, 3]])
    # P_i: 1, (2*1 + 0)/6 = 1/3, 1 -> P = 7/9; p_a = 5/9, p_b = 4/9 -> P_e = 41/81;
    # kappa = (63/81 - 41/81) / (40/81) = 22/40
    assert fleiss_kappa(counts) == pytest.approx(22 / 40)
    with pytest.raises(ValueError, match="same number of answers"):
        fleiss_kappa(np.array([[2, 0], [1, 2]]))


def test_krippendorffs_alpha_by_hand_with_a_missing_answer():
    # record 1: a a; record 2: a b; record 3: b b b; record 4: a (one answer: does not count)
    counts = np.array([[2, 0], [1, 1], [0, 3], [1, 0]])
    # coincidences, each ordered pair of answers on a record weighted 1 / (answers - 1): record 1 adds 2 to
    # o_aa, record 2 adds 1 to o_ab and to o_ba, record 3 adds 3*2/2 = 3 to o_bb
    # n_a = 3, n_b = 4, n = 7; D_o = 2/7; D_e = (49 - 9 - 16) / (7 * 6) = 24/42; alpha = 1 - (2/7) / (24/42) = 0.5
    assert krippendorff_alpha(counts) == pytest.approx(0.5)
    # with every record answered twice, alpha and Fleiss' kappa differ only by the small-sample correction
    two = np.array([[2, 0], [0, 2], [1, 1], [2, 0]])
    n = two.sum()
    assert krippendorff_alpha(two) == pytest.approx(1 - (1 - fleiss_kappa(two)) * (n - 1) / n)


def answers_frame(rows):
    return pd.DataFrame(rows, columns=["key", "label", "annotator"]).set_index("key")


def test_the_agreement_table_of_two_annotators():
    answers = answers_frame([
        (1, "a", "ana"), (1, "a", "ben"), (2, "a", "ana"), (2, "b", "ben"),
        (3, "b", "ana"), (3, "b", "ben"), (4, "b", "ana"),  # record 4 has one answer
    ])
    table = agreement_table(answers, ["a", "b"])
    overall = table["overall"]
    assert overall["records_with_several_answers"] == 3
    assert overall["all_agree"] == pytest.approx(2 / 3)
    assert overall["cohen_kappa"] == pytest.approx(cohen_kappa_score(["a", "a", "b"], ["a", "b", "b"]))
    assert table["annotators"].loc["ana", "answered"] == 4
    assert table["annotators"].loc["ana", "agrees_with_others"] == pytest.approx(2 / 3)
    assert table["label_pairs"].loc["a", "b"] == 1 and table["label_pairs"].loc["a", "a"] == 1
    assert list(disagreements(answers).index) == [2]
