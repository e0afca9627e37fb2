"""Query strategies: what to ask next, by uncertainty, diversity, committee or a mix."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activelabel_widget.errors import OptionError
from activelabel_widget.strategies import (
    STRATEGIES, EmbeddingIndex, at_label_mix, build_embedding_index, check_strategy, confidence, describe,
    needs_model, rank_pool, rank_with_boost, score_pool, top_k)
from activelabel_widget.strategies._hybrid import density_weight, exploration_share
from activelabel_widget.strategies._topk import top_k_spread

settings.register_profile("strategies", max_examples=8, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


def _pool(seed, n, n_classes, *, labeled_share=0.3, with_index=True, with_model=True,
          n_models=3):
    """A random pool: mask, proba (n, K), committee (m, n, K), index over 3-d embeddings."""
    rng = np.random.default_rng(seed)
    mask = rng.random(n) < labeled_share
    proba = rng.dirichlet(np.ones(n_classes), size=n) if with_model else None
    committee = (rng.dirichlet(np.ones(n_classes), size=(n_models, n))
                 if with_model else None)
    index = (build_embedding_index(rng.normal(size=(n, 3)), random_state=seed)
             if with_index else None)
    return dict(labeled_mask=mask, proba=proba, committee_proba=committee, index=index)


def _arrays(pool, boost):
    """Copies of every array a strategy reads, including those inside the index."""
    arrays = {key: value for key, value in pool.items() if isinstance(value, np.ndarray)}
    if pool["index"] is not None:
        arrays.update(cell=pool["index"].cell, order=pool["index"].order,
                      distance=pool["index"].distance)
    arrays["boost"] = boost
    return {key: value.copy() for key, value in arrays.items()}


# --- the contract every strategy keeps -------------------------------------------------------


@pytest.mark.parametrize("name", STRATEGIES)
@pytest.mark.parametrize("n_classes", [1, 2, 7], ids=["one-class", "two-classes", "many"])
@pytest.mark.parametrize("with_index", [True, False], ids=["index", "no-index"])
@settings(settings.get_profile("strategies"))
@given(seed=st.integers(0, 2**16), n=st.integers(1, 40),
       labeled_share=st.sampled_from([0.0, 0.3, 0.9, 1.0]), with_model=st.booleans(),
       k=st.integers(0, 60), random_state=st.integers(0, 1000))
def test_every_registered_strategy_keeps_the_contract(name, n_classes, with_index, seed, n,
                                                     labeled_share, with_model, k,
                                                     random_state):
    pool = _pool(seed, n, n_classes, labeled_share=labeled_share, with_index=with_index,
                 with_model=with_model)
    mask = pool["labeled_mask"]
    boost = np.random.default_rng(seed).random(n)
    boost[::3] = np.nan
    before = _arrays(pool, boost)

    scores = score_pool(name, random_state=random_state, **pool)
    positions, picked, reasons = rank_pool(name, k=k, random_state=random_state, **pool)
    boosted = rank_with_boost(name, k=k, boost=boost, random_state=random_state, **pool)

    # scores: one per row, float64, -inf exactly at labeled rows, finite elsewhere
    assert scores.shape == mask.shape and scores.dtype == np.float64
    assert np.array_equal(np.isneginf(scores), mask)
    assert np.isfinite(scores[~mask]).all()
    # picks: unique, unlabeled, as many as asked or as are left, best first
    n_unlabeled = int((~mask).sum())
    for got, got_scores, got_reasons in [(positions, picked, reasons), boosted]:
        assert got.dtype == np.int64
        assert got.size == min(max(k, 0), n_unlabeled) == len(got_reasons) == got_scores.size
        assert np.unique(got).size == got.size
        assert not mask[got].any()
        assert np.all(np.diff(got_scores) <= 0)
        # one non-empty explanation per pick
        assert all(isinstance(r, str) and r.strip() for r in got_reasons)
    assert np.array_equal(picked, scores[positions])
    assert all(r.endswith(f"({name})") for r in reasons)
    # deterministic under random_state
    again = rank_pool(name, k=k, random_state=random_state, **pool)
    assert np.array_equal(again[0], positions) and again[2] == reasons
    assert np.array_equal(score_pool(name, random_state=random_state, **pool), scores)
    boosted_again = rank_with_boost(name, k=k, boost=boost, random_state=random_state, **pool)
    assert np.array_equal(boosted_again[0], boosted[0]) and boosted_again[2] == boosted[2]
    # inputs untouched
    after = _arrays(pool, boost)
    assert all(np.array_equal(after[key], value, equal_nan=True) for key, value in before.items())


@pytest.mark.parametrize("name", STRATEGIES)
@pytest.mark.parametrize("n_classes", [1, 2, 3, 10])
def test_one_two_and_many_classes_give_a_full_ranking(name, n_classes):
    pool = _pool(7, 60, n_classes)
    positions, _, _ = rank_pool(name, k=100, **pool)
    assert np.array_equal(np.sort(positions), np.flatnonzero(~pool["labeled_mask"]))


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_pool_of_one_row(name):
    pool = _pool(1, 1, 2, labeled_share=0.0)
    positions, scores, reasons = rank_pool(name, k=5, **pool)
    assert positions.tolist() == [0] and np.isfinite(scores).all() and len(reasons) == 1


@pytest.mark.parametrize("name", STRATEGIES)
def test_nothing_left_to_label_returns_empty(name):
    pool = _pool(2, 20, 3, labeled_share=1.0)
    positions, scores, reasons = rank_pool(name, k=5, **pool)
    assert positions.size == 0 and scores.size == 0 and reasons == []
    assert np.isneginf(score_pool(name, **pool)).all()


# --- cold start ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [s for s in STRATEGIES if needs_model(s)])
def test_without_a_model_every_model_strategy_explores_by_diversity(name):
    pool = _pool(3, 200, 3, labeled_share=0.0, with_model=False)
    positions, _, reasons = rank_pool(name, k=10, **pool)
    expected, _, _ = rank_pool("diversity", k=10, **pool)
    assert np.array_equal(positions, expected)
    assert all(r.startswith("no model yet: exploring") for r in reasons)


@pytest.mark.parametrize("name", [s for s in STRATEGIES if s != "random"])
def test_without_a_model_or_embeddings_the_order_is_seeded_random_not_index_order(name):
    mask = np.zeros(50, dtype=bool)
    first, _, reasons = rank_pool(name, k=10, labeled_mask=mask, random_state=1)
    other, _, _ = rank_pool(name, k=10, labeled_mask=mask, random_state=2)
    assert not np.array_equal(first, np.arange(10))
    assert not np.array_equal(first, other)
    assert all("random pick" in r for r in reasons)


@pytest.mark.parametrize("name", ["hybrid", "confidence", "margin", "least_confident"])
def test_a_single_labeled_class_still_explores(name):
    pool = _pool(4, 100, 1)
    positions, _, reasons = rank_pool(name, k=5, **pool)
    assert positions.size == 5
    assert all(r.startswith("one class labeled so far: exploring") for r in reasons)


def test_committee_without_members_falls_back_to_the_model_uncertainty():
    pool = _pool(5, 30, 3)
    pool["committee_proba"] = None
    scores = score_pool("committee", **pool)
    expected = score_pool("confidence", **pool)
    assert np.array_equal(scores, expected)
    _, _, reasons = rank_pool("committee", k=2, **pool)
    assert reasons[0].startswith("no committee yet: confidence")


# --- hand-computed values -------------------------------------------------------------------


def test_confidence_is_zero_at_an_even_split_and_one_when_sure():
    assert confidence([[0.5, 0.5], [1.0, 0.0]]).tolist() == [0.0, 1.0]
    assert confidence([[1 / 3] * 3])[0] == pytest.approx(0.0, abs=1e-12)
    assert confidence([[0.0, 1.0, 0.0]])[0] == 1.0


def test_confidence_on_a_three_class_row():
    p = [0.7, 0.2, 0.1]
    entropy = -sum(x * math.log(x) for x in p)
    assert confidence([p])[0] == pytest.approx(1 - entropy / math.log(3))
    assert confidence([p])[0] == pytest.approx(0.27015, abs=1e-5)


def test_confidence_renormalises_and_survives_nan_and_one_class():
    assert confidence([[2.0, 2.0]])[0] == pytest.approx(0.0)
    assert confidence([[np.nan, 1.0]])[0] == 1.0
    assert confidence([[np.nan, np.nan]])[0] == pytest.approx(0.0)  # knows nothing: ask
    assert confidence(np.ones((4, 1))).tolist() == [1.0] * 4


def test_confidence_strategy_scores_one_minus_confidence():
    proba = np.array([[0.7, 0.2, 0.1], [0.4, 0.3, 0.3]])
    scores = score_pool("confidence", labeled_mask=np.zeros(2, bool), proba=proba)
    assert np.allclose(scores, 1 - confidence(proba))


def test_margin_scores_one_minus_the_gap_between_the_two_best():
    proba = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05], [0.4, 0.4, 0.2]])
    scores = score_pool("margin", labeled_mask=np.zeros(3, bool), proba=proba)
    assert scores == pytest.approx([0.8, 0.15, 1.0])


def test_least_confident_scores_one_minus_the_top_probability():
    proba = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05], [0.4, 0.4, 0.2]])
    scores = score_pool("least_confident", labeled_mask=np.zeros(3, bool), proba=proba)
    assert scores == pytest.approx([0.5, 0.1, 0.6])


def test_committee_scores_vote_entropy_with_kl_to_the_consensus_breaking_ties():
    committee = np.array([[[0.9, 0.1], [0.6, 0.4], [0.9, 0.1]],
                          [[0.2, 0.8], [0.6, 0.4], [0.6, 0.4]]])
    scores = score_pool("committee", labeled_mask=np.zeros(3, bool), committee_proba=committee)

    def kl(p, q):
        return sum(a * math.log(a / b) for a, b in zip(p, q))

    split = (kl([0.9, 0.1], [0.55, 0.45]) + kl([0.2, 0.8], [0.55, 0.45])) / 2
    same_vote = (kl([0.9, 0.1], [0.75, 0.25]) + kl([0.6, 0.4], [0.75, 0.25])) / 2
    assert scores == pytest.approx([math.log(2) + 1e-3 * split, 0.0, 1e-3 * same_vote])


def test_reasons_name_the_number_that_made_the_pick():
    mask = np.array([True, False, False])
    proba = np.array([[1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
    _, _, reasons = rank_pool("confidence", k=1, labeled_mask=mask, proba=proba)
    assert reasons == ["confidence 0.00 (confidence)"]
    _, _, reasons = rank_pool("margin", k=1, labeled_mask=mask, proba=proba)
    assert reasons == ["margin 0.00 between the two likeliest labels (margin)"]
    _, _, reasons = rank_pool("least_confident", k=1, labeled_mask=mask, proba=proba)
    assert reasons == ["top probability 0.50 (least_confident)"]
    _, _, reasons = rank_pool("hybrid", k=2, labeled_mask=mask, proba=proba)
    assert reasons == ["confidence 0.00 (hybrid)", "confidence 0.53 (hybrid)"]


# --- diversity and the embedding index ------------------------------------------------------


def _blobs(n_per, n_blobs, seed=0, d=5):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=20.0, size=(n_blobs, d))
    blob = np.repeat(np.arange(n_blobs), n_per)
    return centers[blob] + rng.normal(size=(blob.size, d)), blob


def test_the_index_puts_every_row_in_one_cell():
    X, _ = _blobs(50, 8)
    index = build_embedding_index(X, random_state=0)
    assert isinstance(index, EmbeddingIndex)
    assert index.n_rows == 400 and index.cell_size.sum() == 400
    assert np.array_equal(np.sort(index.order), np.arange(400))
    assert index.cell.min() >= 0 and index.cell.max() < index.n_cells
    # each cell's first row in pick order is the one nearest its centroid
    for c in range(index.n_cells):
        rows = index.order[index.cell_start[c]:index.cell_start[c + 1]]
        if rows.size:
            assert index.distance[rows[0]] == index.distance[index.cell == c].min()


def test_the_index_is_deterministic_and_leaves_the_embeddings_alone():
    X, _ = _blobs(30, 5)
    before = X.copy()
    a = build_embedding_index(X, random_state=3)
    b = build_embedding_index(X, random_state=3)
    assert np.array_equal(a.cell, b.cell) and np.array_equal(a.order, b.order)
    assert np.array_equal(X, before)


def test_a_diversity_batch_spreads_over_the_regions():
    X, blob = _blobs(100, 10)
    index = build_embedding_index(X, n_cells=10, random_state=0)
    positions, _, reasons = rank_pool("diversity", k=10, labeled_mask=np.zeros(1000, bool),
                                      index=index)
    assert np.unique(blob[positions]).size == 10
    assert all(r == "exploring an unlabeled region (diversity)" for r in reasons)


def test_diversity_asks_first_where_labels_are_missing():
    X, blob = _blobs(100, 4)
    index = build_embedding_index(X, n_cells=4, random_state=0)
    mask = np.zeros(400, bool)
    mask[np.flatnonzero(blob == 0)[:5]] = True  # region 0 already has labels
    positions, _, _ = rank_pool("diversity", k=3, labeled_mask=mask, index=index)
    assert 0 not in blob[positions]


def test_small_distant_regions_are_covered_before_a_big_one_gets_a_second_pick():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(500, 2)), rng.normal(size=(20, 2)) + [60.0, 0.0],
                   rng.normal(size=(20, 2)) + [0.0, 60.0]])
    index = build_embedding_index(X, n_cells=3, random_state=0)
    positions, _, _ = rank_pool("diversity", k=3, labeled_mask=np.zeros(540, bool),
                                index=index)
    assert sorted(np.digitize(positions, [500, 520]).tolist()) == [0, 1, 2]


def test_a_region_next_to_labeled_ones_waits():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + [3.0, 0.0],
                   rng.normal(size=(100, 2)) + [40.0, 0.0]])
    index = build_embedding_index(X, n_cells=3, random_state=0)
    mask = np.zeros(300, bool)
    mask[:3] = True  # the region at the origin has labels; its neighbour at x=3 is close
    positions, _, _ = rank_pool("diversity", k=1, labeled_mask=mask, index=index)
    assert positions[0] >= 200  # the far region is asked first


def test_a_bigger_region_gets_more_of_a_batch():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(300, 2)), rng.normal(size=(100, 2)) + 50.0])
    index = build_embedding_index(X, n_cells=2, random_state=0)
    positions, _, _ = rank_pool("diversity", k=8, labeled_mask=np.zeros(400, bool),
                                index=index)
    assert (positions < 300).sum() == 6  # 300:100 rows -> 6:2 picks


def test_hybrid_prefers_unsure_rows_in_unlabeled_regions():
    X, blob = _blobs(50, 4)
    index = build_embedding_index(X, n_cells=4, random_state=0)
    mask = np.zeros(200, bool)
    mask[np.flatnonzero(blob == 0)[:10]] = True
    proba = np.full((200, 2), 0.5)  # equally unsure everywhere
    positions, _, reasons = rank_pool("hybrid", k=3, labeled_mask=mask, proba=proba,
                                      index=index)
    assert 0 not in blob[positions]
    assert reasons[0] == "confidence 0.00, in an unlabeled region (hybrid)"


def test_the_hybrid_explores_as_much_as_the_model_is_expected_to_err():
    mask = np.array([True, False, False, False])
    uniform = np.full((4, 2), 0.5)
    sure = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert exploration_share(uniform, mask) == 1.0  # knows nothing: explore fully
    assert exploration_share(sure, mask) == 0.0  # sure of every unlabeled row (the labeled one is left out)
    half = np.array([[0.5, 0.5], [0.75, 0.25], [0.75, 0.25], [0.25, 0.75]])
    assert exploration_share(half, mask) == pytest.approx(0.5)  # expected error 0.25 of a chance-level 0.5
    unseen = np.array([[0.9, 0.1, 0.0]] * 4)  # the third label has no example yet
    assert exploration_share(unseen, mask) == 1.0


def test_a_sure_model_makes_the_hybrid_plain_margin_sampling():
    X, _ = _blobs(50, 4)
    index = build_embedding_index(X, n_cells=4, random_state=0)
    rng = np.random.default_rng(1)
    top = 1.0 - rng.random(200) * 1e-3  # every row nearly sure, in a different amount
    proba = np.stack([top, 1.0 - top], axis=1)
    mask = np.zeros(200, bool)
    mask[:10] = True
    hybrid, _, _ = rank_pool("hybrid", k=20, labeled_mask=mask, proba=proba, index=index)
    margin, _, _ = rank_pool("margin", k=20, labeled_mask=mask, proba=proba, index=index)
    assert exploration_share(proba, mask) < 0.01
    assert len(set(hybrid) & set(margin)) >= 18  # the steering has (almost) no say left


def test_a_poor_model_steers_the_hybrid_to_uncovered_regions():
    X, blob = _blobs(50, 4)
    index = build_embedding_index(X, n_cells=4, random_state=0)
    mask = np.zeros(200, bool)
    mask[np.flatnonzero(blob == 0)[:10]] = True
    proba = np.full((200, 2), 0.6)
    proba[:, 1] = 0.4
    proba[blob == 0] = 0.5  # the covered region is the most uncertain one
    positions, _, _ = rank_pool("hybrid", k=3, labeled_mask=mask, proba=proba, index=index)
    margin, _, _ = rank_pool("margin", k=3, labeled_mask=mask, proba=proba, index=index)
    assert (blob[margin] == 0).all() and not (blob[positions] == 0).any()


def _wide_and_compact(seed=0, d=5):
    """Three wide regions of 150 rows and one compact region of 120 (a label nobody found yet lives
    in regions like it), far apart; the region of each row (3 = the compact one)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=40.0, size=(4, d))
    region = np.repeat([0, 1, 2, 3], [150, 150, 150, 120])
    scale = np.where(region == 3, 0.3, 3.0)[:, None]
    return centers[region] + scale * rng.normal(size=(region.size, d)), region


def test_while_a_label_has_no_example_the_hybrid_looks_in_dense_regions_first():
    X, region = _wide_and_compact()
    index = build_embedding_index(X, n_cells=4, random_state=0)
    mask = np.zeros(570, bool)
    unseen = np.tile([0.5, 0.5, 0.0], (570, 1))  # the third label has no example: its column is 0
    positions, _, reasons = rank_pool("hybrid", k=5, labeled_mask=mask, proba=unseen, index=index)
    assert (region[positions] == 3).all()
    assert reasons[0] == "confidence 0.37, looking for a label the model has not learnt yet (hybrid)"
    # every label seen (the same margins): the wide regions first, they hold more rows per label
    seen = np.tile([0.45, 0.45, 0.1], (570, 1))
    positions, _, _ = rank_pool("hybrid", k=5, labeled_mask=mask, proba=seen, index=index)
    assert not (region[positions] == 3).any()


def test_the_dense_region_gives_way_once_labels_cover_it():
    X, region = _wide_and_compact()
    index = build_embedding_index(X, n_cells=4, random_state=0)
    unseen = np.tile([0.5, 0.5, 0.0], (570, 1))
    mask = np.zeros(570, bool)
    mask[np.flatnonzero(region == 3)[:30]] = True  # asked about 30 times there: no third label in it
    positions, _, _ = rank_pool("hybrid", k=5, labeled_mask=mask, proba=unseen, index=index)
    assert not (region[positions] == 3).any()


def test_density_is_one_in_the_densest_open_cell_and_a_lone_row_is_not_dense():
    X, region = _wide_and_compact()
    X = np.vstack([X, X[:1] + 500.0])  # an outlier far from everything: a cell of its own
    index = build_embedding_index(X, n_cells=5, random_state=0)
    assert index.cell_size[index.cell[570]] == 1 and index.cell_spread[index.cell[570]] < 1.0
    mask = np.zeros(571, bool)
    weight = density_weight(index, mask)
    assert weight.shape == (571,) and weight.max() == 1.0 and (weight > 0).all()
    assert (weight[:570][region == 3] == 1.0).all()
    assert weight[570] < weight[:570][region == 0].min()  # floored spread: one row is less dense than a wide region
    unseen = np.tile([0.5, 0.5, 0.0], (571, 1))
    positions, _, _ = rank_pool("hybrid", k=200, labeled_mask=mask, proba=unseen, index=index)
    assert 570 not in positions
    mask[:570] = region == 3  # the compact region all labeled: the densest cell with rows to ask about is 1
    weight = density_weight(index, mask)
    assert weight[:570][region != 3].max() == 1.0


def test_cells_of_copies_still_have_a_density_when_most_cells_are_copies():
    rng = np.random.default_rng(0)
    records = rng.normal(scale=50.0, size=(6, 4))
    copies = np.repeat(records, [100, 30, 30, 30, 30, 1], axis=0)  # six records, copied; most cells have spread 0
    X = np.vstack([copies, rng.normal(size=(40, 4))])  # and one wide region, away from them
    index = build_embedding_index(X, n_cells=7, random_state=0)
    assert (index.cell_spread[index.cell[:221]] < 0.1).all() and index.cell[0] != index.cell[-1]
    weight = density_weight(index, np.zeros(X.shape[0], bool))
    assert np.isfinite(weight).all() and (weight > 0).all()
    assert weight[0] == 1.0  # the record copied a hundred times is the densest place to look


def test_a_batch_between_fits_spreads_over_the_regions():
    X, blob = _blobs(50, 4)
    index = build_embedding_index(X, n_cells=4, random_state=0)
    mask = np.zeros(200, bool)
    proba = np.full((200, 2), 0.5)
    proba[:, 0] = np.where(blob == 2, 0.5, 0.7)  # one region holds every most-uncertain row
    plain, _, _ = rank_pool("margin", k=8, labeled_mask=mask, proba=proba, index=index)
    spread, _, reasons = rank_pool("margin", k=8, labeled_mask=mask, proba=proba, index=index, batch=4)
    assert (blob[plain] == 2).all()
    assert sorted(blob[spread[:4]]) == [0, 1, 2, 3] and sorted(blob[spread[4:]]) == [0, 1, 2, 3]
    assert spread[0] == plain[0] and len(reasons) == 8
    boosted, _, _ = rank_with_boost("margin", k=8, boost=np.zeros(200), labeled_mask=mask, proba=proba,
                                    index=index, batch=4)
    assert len(set(blob[boosted[:4]])) >= 3  # ranks are closer together than scores: a second pick may win
    # random and diversity keep their own order; without an index there is nothing to spread over
    assert np.array_equal(rank_pool("random", k=8, labeled_mask=mask, index=index, batch=4)[0],
                          rank_pool("random", k=8, labeled_mask=mask, index=index)[0])
    assert np.array_equal(rank_pool("margin", k=8, labeled_mask=mask, proba=proba, batch=4)[0], plain)


def test_spreading_never_pushes_a_boosted_record_behind_unboosted_ones():
    rng = np.random.default_rng(3)
    scores = rng.random(100)  # ranks in [0, 1]
    bonus = np.zeros(100)
    bonus[rng.choice(100, size=12, replace=False)] = 1.0
    group = np.zeros(100, dtype=np.int64)  # all in one region: spreading would halve them one after another
    picks = top_k_spread(scores, 20, group, batch=10, bonus=bonus)
    assert set(picks[:12]) == set(np.flatnonzero(bonus))


@settings(settings.get_profile("strategies"))
@given(seed=st.integers(0, 2**16), n=st.integers(0, 300), k=st.integers(0, 120), batch=st.integers(1, 12),
       n_groups=st.integers(1, 9))
def test_spread_picks_are_unique_finite_and_as_many_as_asked(seed, n, k, batch, n_groups):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=n)  # negative scores too
    scores[rng.random(n) < 0.2] = -np.inf
    group = rng.integers(0, n_groups, size=n)
    picks = top_k_spread(scores, k, group, batch)
    n_finite = int(np.isfinite(scores).sum())
    assert picks.dtype == np.int64 and picks.size == min(k, n_finite)
    assert np.unique(picks).size == picks.size and np.isfinite(scores[picks]).all()
    if picks.size:
        assert picks[0] == top_k(scores, 1)[0]  # each run starts with the best row left
    assert np.array_equal(top_k_spread(scores, k, group, 1), top_k(scores, k))


def test_index_errors_say_what_to_do():
    with pytest.raises(ValueError, match="nan"):
        build_embedding_index(np.array([[0.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="shape"):
        build_embedding_index(np.zeros(5))
    index = build_embedding_index(np.random.default_rng(0).normal(size=(20, 2)))
    with pytest.raises(ValueError, match="rebuild it"):
        score_pool("diversity", labeled_mask=np.zeros(21, bool), index=index)


# --- top_k and the public surface ------------------------------------------------------------


def test_top_k_returns_the_best_first_and_breaks_ties_by_position():
    scores = np.array([0.2, 0.9, -np.inf, 0.9, 0.5, 0.2, np.nan])
    assert top_k(scores, 3).tolist() == [1, 3, 4]
    assert top_k(scores, 5).tolist() == [1, 3, 4, 0, 5]
    assert top_k(scores, 100).tolist() == [1, 3, 4, 0, 5]
    assert top_k(scores, 0).tolist() == []
    assert top_k(np.full(10, 1.0), 4).tolist() == [0, 1, 2, 3]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.sampled_from([0.0, 0.5, 1.0, -np.inf, 2.0]), max_size=30),
       k=st.integers(0, 35))
def test_top_k_matches_a_full_sort(values, k):
    scores = np.array(values, dtype=float)
    finite = [i for i in range(len(values)) if np.isfinite(values[i])]
    expected = sorted(finite, key=lambda i: (-values[i], i))[:k]
    assert top_k(scores, k).tolist() == expected


def test_strategy_names_and_which_need_a_model():
    assert STRATEGIES[0] == "hybrid"
    assert set(STRATEGIES) == {"hybrid", "confidence", "margin", "least_confident",
                               "diversity", "committee", "random"}
    assert [needs_model(s) for s in STRATEGIES] == [True, True, True, True, False, True, False]


def test_bad_arguments_get_clear_errors():
    mask = np.zeros(3, bool)
    with pytest.raises(ValueError, match="strategy='entropy' is not known"):
        score_pool("entropy", labeled_mask=mask)
    with pytest.raises(TypeError, match="boolean"):
        score_pool("margin", labeled_mask=np.array([0, 2]))
    with pytest.raises(ValueError, match="same row order"):
        score_pool("margin", labeled_mask=mask, proba=np.full((4, 2), 0.5))
    with pytest.raises(ValueError, match="n_classes"):
        score_pool("margin", labeled_mask=mask, proba=np.full(3, 0.5))


# --- strategy names: registered once, checked in one place -----------------------------------


def test_every_strategy_has_a_one_sentence_description():
    descriptions = [describe(name) for name in STRATEGIES]
    assert len(set(descriptions)) == len(STRATEGIES)
    for text in descriptions:
        assert text[0].isupper() and text.endswith(".") and ". " not in text
    assert "no model" in describe("diversity")


def test_a_known_strategy_name_passes_the_check_unchanged():
    assert [check_strategy(name) for name in STRATEGIES] == list(STRATEGIES)


def test_an_unknown_strategy_name_lists_every_choice():
    with pytest.raises(OptionError) as caught:
        check_strategy("entropy")
    message = str(caught.value)
    assert message.startswith("strategy='entropy' is not known; choose one of ")
    assert message.endswith(", ".join(STRATEGIES) + ".")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", [None, 3, ["margin"], "Margin", " margin", ""])
def test_names_that_only_look_like_a_strategy_are_refused(name):
    with pytest.raises(OptionError, match="is not known"):
        check_strategy(name)


@pytest.mark.parametrize("call", [
    lambda name: score_pool(name, labeled_mask=np.zeros(3, bool)),
    lambda name: rank_pool(name, k=1, labeled_mask=np.zeros(3, bool)),
    lambda name: rank_with_boost(name, k=1, boost=np.zeros(3), labeled_mask=np.zeros(3, bool)),
    needs_model,
    describe,
], ids=["score_pool", "rank_pool", "rank_with_boost", "needs_model", "describe"])
def test_every_entry_point_checks_the_name_the_same_way(call):
    with pytest.raises(OptionError) as caught:
        call("nope")
    with pytest.raises(OptionError) as expected:
        check_strategy("nope")
    assert str(caught.value) == str(expected.value)


# --- ranking with a boost (e.g. where labeling heuristics disagree) --------------------------


def _five_rows():
    mask = np.array([False, True, False, False, False])
    proba = np.array([[0.5, 0.5], [0.5, 0.5], [0.7, 0.3], [0.9, 0.1], [0.8, 0.2]])
    return mask, proba


def test_a_boost_adds_to_the_strategy_rank_by_hand():
    mask, proba = _five_rows()  # margin uncertainty of rows 0, 2, 3, 4: 1.0, 0.6, 0.2, 0.4
    boost = np.array([0.3, 1.0, np.nan, 0.0, 0.6])
    positions, scores, reasons = rank_with_boost("margin", k=10, boost=boost,
                                                 labeled_mask=mask, proba=proba)
    # ranks 1, 2/3, 0, 1/3; plus boosts 0.3, 0 (nan), 0, 0.6
    assert positions.tolist() == [0, 4, 2, 3]
    assert scores == pytest.approx([1.3, 1 / 3 + 0.6, 2 / 3, 0.0])
    assert reasons == ["heuristics disagree (0.30) + margin",
                       "heuristics disagree (0.60) + margin",
                       "margin rank 0.67",
                       "margin rank 0.00"]


def test_a_boost_lifts_a_row_the_strategy_would_ask_last():
    mask, proba = _five_rows()
    plain, _, _ = rank_with_boost("margin", k=4, boost=np.zeros(5), labeled_mask=mask,
                                  proba=proba)
    assert plain.tolist() == [0, 2, 4, 3]
    boost = np.zeros(5)
    boost[3] = 0.9
    lifted, _, reasons = rank_with_boost("margin", k=4, boost=boost, labeled_mask=mask,
                                         proba=proba)
    assert lifted.tolist() == [0, 3, 2, 4]
    assert reasons[1] == "heuristics disagree (0.90) + margin"


def test_without_a_boost_the_strategy_order_stands():
    pool = _pool(11, 80, 3)
    expected, _, _ = rank_pool("hybrid", k=20, **pool)
    positions, _, _ = rank_with_boost("hybrid", k=20, boost=np.zeros(80), **pool)
    assert np.array_equal(positions, expected)


def test_labeled_rows_are_never_picked_however_large_their_boost():
    pool = _pool(12, 50, 2, labeled_share=0.5)
    mask = pool["labeled_mask"]
    boost = np.where(mask, 1.0, 0.0)
    positions, _, _ = rank_with_boost("confidence", k=100, boost=boost, **pool)
    assert np.array_equal(np.sort(positions), np.flatnonzero(~mask))


def test_equal_strategy_scores_share_a_rank_so_ties_go_by_position():
    mask = np.zeros(6, bool)
    proba = np.full((6, 2), 0.5)
    positions, scores, reasons = rank_with_boost("margin", k=6, boost=np.zeros(6),
                                                 labeled_mask=mask, proba=proba)
    assert positions.tolist() == [0, 1, 2, 3, 4, 5]
    assert scores.tolist() == [0.5] * 6 and reasons[0] == "margin rank 0.50"


def test_a_boost_of_the_wrong_length_is_refused_clearly():
    with pytest.raises(ValueError, match=r"boost must have shape \(3,\), one value per pool row"):
        rank_with_boost("margin", k=1, boost=np.zeros(4), labeled_mask=np.zeros(3, bool))
    with pytest.raises(ValueError, match="boost must have shape"):
        rank_with_boost("margin", k=1, boost=np.zeros((3, 1)), labeled_mask=np.zeros(3, bool))


def test_the_labels_class_mix_moves_where_the_hybrid_looks_not_how_much_it_explores():
    # a balanced model torn between a common and a rare label on every row: at a 49:1 mix of labels it is
    # sure of the common one, but how much the hybrid explores is the expected error the card shows
    from activelabel_widget.strategies._hybrid import hybrid_scores

    rng = np.random.default_rng(0)
    rare = rng.uniform(0.3, 0.5, size=400)
    proba = np.column_stack([1.0 - rare, rare])
    mask = np.zeros(400, dtype=bool)
    index = build_embedding_index(rng.normal(size=(400, 4)).astype(np.float32), random_state=0)
    shifted = at_label_mix(proba, [49, 1])
    shown_share, shifted_share = exploration_share(proba, mask), exploration_share(shifted, mask)
    assert shown_share > 0.8 and shifted_share < 0.2  # the two readings explore very differently
    scores = score_pool("hybrid", labeled_mask=mask, proba=proba, index=index, label_mix=[49, 1])
    expected = hybrid_scores(shifted, mask, index, share=shown_share)
    assert np.allclose(scores, expected)
    assert not np.allclose(scores, hybrid_scores(shifted, mask, index, share=shifted_share))


def test_a_balanced_model_is_ranked_at_the_labels_class_mix():
    # a balanced model's 50/50 row is, at a 9:1 mix of labels, a sure "common" row; its 20/80 row is the
    # one a model without class weights would be torn on
    mask = np.array([False, False, False])
    proba = np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]])
    assert rank_pool("margin", k=1, labeled_mask=mask, proba=proba)[0].tolist() == [0]
    positions, _, reasons = rank_pool("margin", k=1, labeled_mask=mask, proba=proba, label_mix=[9, 1])
    assert positions.tolist() == [1]
    shifted = at_label_mix(proba, [9, 1])
    assert np.allclose(shifted.sum(axis=1), 1.0) and shifted[0, 0] > 0.8
    # the reason quotes the probabilities the card shows, not the shifted ones
    assert reasons == ["margin 0.60 between the two likeliest labels (margin)"]
    # equal counts change nothing
    assert np.allclose(at_label_mix(proba, [4, 4]), proba)
    with pytest.raises(ValueError, match="one count"):
        at_label_mix(proba, [1, 2, 3])
