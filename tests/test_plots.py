"""Figures show what the user needs: read back what each figure contains."""

import struct
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import LogNorm, to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from sklearn.decomposition import PCA

from activelabel_widget import plots
from activelabel_widget.plots import (
    CONFIDENCE_BINS,
    PALETTE,
    coverage_share,
    empty_figure,
    figure_to_png,
    label_colors,
    plot_confidence,
    plot_coverage,
    plot_label_counts,
    plot_learning_curve,
    project_2d,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LABELS = ["bug", "feature", "question"]


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.fixture
def pool(rng):
    """Confidence and predicted codes of 2,000 unlabeled records, with values on bin edges."""
    confidence = rng.beta(2.0, 1.2, size=2_000)
    confidence[:6] = [0.0, 0.05, 0.5, 0.95, 1.0, 0.4999]
    predicted = rng.integers(0, 3, size=2_000)
    return confidence, predicted


def all_texts(fig):
    """Every piece of text a reader sees: titles, axis texts, legend entries."""
    texts = []
    for ax in fig.axes:
        texts += [ax.get_title(loc) for loc in ("left", "center", "right")]
        texts += [text.get_text() for text in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += [text.get_text() for text in legend.get_texts()]
    return [text for text in texts if text]


def bar_containers(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


# -- palette -------------------------------------------------------------------------------------

def test_palette_is_okabe_ito():
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                 "#CC79A7"}
    assert set(PALETTE) == okabe_ito
    assert PALETTE[-1] == "#000000"  # black is kept for marks, not labels


def test_label_colors_are_distinct_and_black_free():
    for n in (1, 3, 7, 12):
        colors = label_colors(n)
        assert len(colors) == n
        assert len({c.lower() for c in colors}) == n
    assert "#000000" not in label_colors(7)


# -- confidence ----------------------------------------------------------------------------------

def test_confidence_bars_count_each_predicted_label_in_20_fixed_bins(pool):
    confidence, predicted = pool
    ax = plot_confidence(confidence, predicted, LABELS).axes[0]
    containers = bar_containers(ax)
    assert len(containers) == 3
    bottom = np.zeros(CONFIDENCE_BINS)
    edges = np.linspace(0, 1, 21)
    for code, container in enumerate(containers):
        expected, _ = np.histogram(confidence[predicted == code], bins=20, range=(0, 1))
        heights = np.array([patch.get_height() for patch in container])
        assert np.array_equal(heights, expected)
        assert np.allclose([patch.get_y() for patch in container], bottom)  # stacked
        assert np.allclose([patch.get_x() for patch in container], edges[:-1])
        assert np.allclose([patch.get_width() for patch in container], 0.05)
        assert container.get_label() == f"{LABELS[code]} ({np.sum(predicted == code):,})"
        assert to_rgba(container[0].get_facecolor()) == to_rgba(label_colors(3)[code])
        bottom += expected


def test_confidence_counts_every_record_exactly_once(pool):
    confidence, predicted = pool
    ax = plot_confidence(confidence, predicted, LABELS).axes[0]
    total = sum(patch.get_height() for c in bar_containers(ax) for patch in c)
    assert total == len(confidence)


def test_confidence_marks_the_query_threshold(pool):
    confidence, predicted = pool
    ax = plot_confidence(confidence, predicted, LABELS, threshold=0.35).axes[0]
    (line,) = [line for line in ax.lines if "threshold" in line.get_label()]
    assert np.allclose(line.get_xdata(), [0.35, 0.35])
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("0.35" in text and "next queries below" in text for text in legend)


def test_confidence_without_threshold_draws_no_threshold_line(pool):
    confidence, predicted = pool
    ax = plot_confidence(confidence, predicted, LABELS).axes[0]
    assert not [line for line in ax.lines if "threshold" in line.get_label()]


def test_confidence_says_how_many_records_are_below_one_half(pool):
    confidence, predicted = pool
    fig = plot_confidence(confidence, predicted, LABELS)
    below = int(np.sum(confidence < 0.5))  # 0.5 itself is not below
    share = round(100 * below / len(confidence))
    assert f"{below:,} records ({share}%) below 0.5" in all_texts(fig)


def test_confidence_outlines_the_hand_labeled_rows(pool, rng):
    confidence, predicted = pool
    hand = rng.beta(5, 1, size=60)
    fig = plot_confidence(confidence, predicted, LABELS, labeled_confidence=hand)
    steps = [p for ax in fig.axes for p in ax.patches if isinstance(p, StepPatch)]
    assert len(steps) == 1
    expected, _ = np.histogram(hand, bins=20, range=(0, 1))
    assert np.array_equal(steps[0].get_data().values, expected)
    assert np.allclose(steps[0].get_data().edges, np.linspace(0, 1, 21))
    assert any("hand-labeled (60)" in text for text in all_texts(fig))


def test_confidence_title_and_axes_say_what_is_shown(pool):
    confidence, predicted = pool
    ax = plot_confidence(confidence, predicted, LABELS).axes[0]
    assert "2,000 unlabeled records" in ax.get_title()
    assert "confidence" in ax.get_xlabel()
    assert "unlabeled records" in ax.get_ylabel()


def test_confidence_rejects_codes_outside_the_labels(pool):
    confidence, predicted = pool
    with pytest.raises(ValueError, match="predicted"):
        plot_confidence(confidence, np.where(predicted == 2, 3, predicted), LABELS)
    with pytest.raises(ValueError, match="shape"):
        plot_confidence(confidence, predicted[:-1], LABELS)


def test_confidence_does_not_mutate_its_inputs(pool):
    confidence, predicted = pool
    before = confidence.copy(), predicted.copy()
    plot_confidence(confidence, predicted, LABELS, labeled_confidence=confidence[:5])
    assert np.array_equal(confidence, before[0]) and np.array_equal(predicted, before[1])


def test_confidence_draws_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_confidence([0.2, 0.9], [0, 1], ["a", "b"], ax=ax) is fig
    assert len(bar_containers(ax)) == 2


# -- empty input ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("draw", "words"),
    [
        (lambda: plot_confidence(None, None, LABELS), "No model yet"),
        (lambda: plot_confidence(np.array([]), np.array([], int), LABELS), "No model yet"),
        (lambda: plot_coverage(None, None, LABELS), "No map yet"),
        (lambda: plot_coverage(np.zeros((0, 2)), np.zeros(0, int), LABELS), "No map yet"),
        (lambda: plot_learning_curve([], []), "No quality estimate yet"),
        (lambda: plot_learning_curve([5, 8], [np.nan, np.nan]), "No quality estimate yet"),
        (lambda: plot_label_counts(None), "No labels yet"),
        (lambda: plot_label_counts(pd.DataFrame({"hand": [0, 0]}, index=["a", "b"])),
         "No labels yet"),
    ],
)
def test_empty_input_gives_a_message_not_an_error(draw, words):
    fig = draw()
    assert isinstance(fig, Figure)
    (text,) = all_texts(fig)
    assert text.startswith(words)
    assert not fig.axes[0].axison


def test_empty_figure_shows_the_message():
    fig = empty_figure("No model yet: label at least 2 examples of 2 labels")
    assert all_texts(fig) == ["No model yet: label at least 2 examples of 2 labels"]


# -- projection ----------------------------------------------------------------------------------

@pytest.fixture
def blobs(rng):
    centers = rng.normal(scale=8.0, size=(3, 16))
    codes = rng.integers(0, 3, size=600)
    return (centers[codes] + rng.normal(size=(600, 16))).astype(np.float32), codes


def test_project_2d_gives_float32_pairs_deterministically(blobs):
    X, _ = blobs
    xy = project_2d(X)
    assert xy.shape == (600, 2) and xy.dtype == np.float32
    assert np.array_equal(xy, project_2d(X))


def test_project_2d_pca_matches_the_principal_axes(blobs):
    X, _ = blobs
    xy = project_2d(X)
    reference = PCA(n_components=2).fit_transform(X.astype(np.float64))
    for column in range(2):
        assert abs(np.corrcoef(xy[:, column], reference[:, column])[0, 1]) > 0.9999
    assert np.allclose(np.abs(xy), np.abs(reference), atol=1e-3)


def test_project_2d_fits_on_a_sample_and_projects_every_row(blobs):
    X, _ = blobs
    xy = project_2d(X, sample=100, random_state=3)
    assert xy.shape == (600, 2)
    assert np.array_equal(xy, project_2d(X, sample=100, random_state=3))
    assert not np.array_equal(xy, project_2d(X, sample=100, random_state=4))
    assert abs(np.corrcoef(xy[:, 0], project_2d(X)[:, 0])[0, 1]) > 0.99


def test_project_2d_does_not_mutate_its_input(blobs):
    X, _ = blobs
    before = X.copy()
    project_2d(X, sample=50)
    assert np.array_equal(X, before)


def test_project_2d_of_one_dimension_leaves_the_second_axis_flat():
    xy = project_2d(np.arange(10.0).reshape(-1, 1))
    assert np.allclose(xy[:, 1], 0.0)
    assert np.allclose(np.abs(xy[:, 0]), np.abs(np.arange(10.0) - 4.5))


def test_project_2d_tsne_places_every_row_deterministically(blobs):
    X, codes = blobs
    xy = project_2d(X, method="tsne", nonlinear_sample=200)
    assert xy.shape == (600, 2) and xy.dtype == np.float32
    assert np.array_equal(xy, project_2d(X, method="tsne", nonlinear_sample=200))
    # Rows outside the fitted subsample land on a fitted row: only 200 distinct places.
    assert len(np.unique(xy, axis=0)) == 200
    # Well separated blobs stay apart: each row's map neighbour shares its blob.
    from sklearn.neighbors import KNeighborsClassifier

    assert KNeighborsClassifier(n_neighbors=1).fit(xy[:300], codes[:300]).score(
        xy[300:], codes[300:]) > 0.95


def test_project_2d_umap_missing_says_how_to_install(blobs, monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap now raises ImportError
    with pytest.raises(ImportError, match="pip install umap-learn"):
        project_2d(blobs[0], method="umap")


def test_project_2d_rejects_unknown_methods(blobs):
    with pytest.raises(ValueError, match="method"):
        project_2d(blobs[0], method="mds")


# -- coverage share ------------------------------------------------------------------------------

LINE = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0]])


def test_coverage_share_by_hand_on_six_points_on_a_line():
    labeled = np.array([True, False, False, False, False, False])
    # distances to the label at 0: 0, 1, 2, 3, 10, 11 -> 3 of 6 within 2.
    assert coverage_share(LINE, labeled, radius=2.0) == (0.5, 2.0)
    assert coverage_share(LINE, labeled, radius=0.5) == (1 / 6, 0.5)
    labeled[4] = True  # a label at 10 also covers 11
    assert coverage_share(LINE, labeled, radius=1.0) == (4 / 6, 1.0)


def test_coverage_default_radius_on_a_small_pool_is_the_median_neighbour_distance():
    # nearest-neighbour distances: 1, 1, 1, 1, 1, 1 -> median 1; labels at 0 and 10.
    share, radius = coverage_share(LINE, np.array([True, False, False, False, True, False]))
    assert radius == pytest.approx(1.0)
    assert share == pytest.approx(4 / 6)
    spread = np.array([[0.0], [1.0], [3.0], [6.0], [10.0]])  # neighbour distances 1,1,2,3,4
    assert coverage_share(spread, np.ones(5, bool))[1] == pytest.approx(2.0)


def test_coverage_share_is_zero_without_labels_and_one_with_all():
    assert coverage_share(LINE, np.zeros(6, bool), radius=1.0) == (0.0, 1.0)
    assert coverage_share(LINE, np.ones(6, bool), radius=0.0) == (1.0, 0.0)


def test_coverage_share_estimates_on_a_sample_of_a_large_pool(rng):
    X = rng.uniform(size=(20_000, 2))
    labeled = np.zeros(20_000, bool)
    labeled[rng.choice(20_000, 40, replace=False)] = True
    exact, radius = coverage_share(X, labeled, radius=0.05)
    estimate, _ = coverage_share(X, labeled, radius=0.05, sample=5_000)
    assert estimate != exact  # it really sampled ...
    assert estimate == pytest.approx(exact, abs=0.03)  # ... and the estimate is close
    assert coverage_share(X, labeled, radius=0.05, sample=5_000) == (estimate, radius)


def test_coverage_share_needs_a_boolean_mask_of_matching_length():
    with pytest.raises(TypeError, match="boolean"):
        coverage_share(LINE, np.array([0, 1, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="shape"):
        coverage_share(LINE, np.ones(5, bool))


# -- coverage map --------------------------------------------------------------------------------

@pytest.fixture
def coverage_map(blobs):
    X, codes = blobs
    xy = project_2d(X)
    label_codes = np.full(600, -1)
    labeled = np.arange(0, 600, 20)  # 30 labeled rows
    label_codes[labeled] = codes[labeled]
    queued = np.array([5, 6, 7, 8])
    return xy, label_codes, queued


def test_coverage_map_draws_labeled_points_where_they_are_in_their_colour(coverage_map):
    xy, label_codes, queued = coverage_map
    ax = plot_coverage(xy, label_codes, LABELS, queued=queued).axes[0]
    points = {c.get_label(): c for c in ax.collections if isinstance(c, PathCollection)}
    for code, name in enumerate(LABELS):
        rows = np.flatnonzero(label_codes == code)
        collection = points[f"{name} ({len(rows)})"]
        assert np.allclose(collection.get_offsets(), xy[rows])
        assert np.allclose(collection.get_facecolors(), to_rgba(PALETTE[code]))


def test_coverage_map_highlights_the_queued_records(coverage_map):
    xy, label_codes, queued = coverage_map
    ax = plot_coverage(xy, label_codes, LABELS, queued=queued).axes[0]
    (stars,) = [c for c in ax.collections if c.get_label() == "queued next (4)"]
    assert np.allclose(stars.get_offsets(), xy[queued])
    assert np.allclose(stars.get_edgecolors(), to_rgba("black"))
    assert stars.get_zorder() > max(c.get_zorder() for c in ax.collections if c is not stars)


def test_coverage_map_shows_every_unlabeled_record_as_log_density(coverage_map):
    xy, label_codes, _ = coverage_map
    ax = plot_coverage(xy, label_codes, LABELS).axes[0]
    (hexbin,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert hexbin.get_array().sum() == np.sum(label_codes == -1)
    assert isinstance(hexbin.norm, LogNorm)
    assert "unlabeled (570), darker = denser" in all_texts(ax.figure)


def test_coverage_map_title_gives_the_coverage_share(coverage_map):
    xy, label_codes, _ = coverage_map
    ax = plot_coverage(xy, label_codes, LABELS, coverage=(0.4234, 1.25)).axes[0]
    assert ax.get_title() == "42% of the pool is within r = 1.2 of a label"


def test_coverage_map_subsamples_points_above_max_points_but_never_the_density(coverage_map):
    xy, label_codes, _ = coverage_map
    ax = plot_coverage(xy, label_codes, LABELS, max_points=12).axes[0]
    drawn = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in drawn) == 12
    for collection in drawn:  # drawn points are real labeled rows of that label
        name = collection.get_label().split(" (")[0]
        rows = np.flatnonzero(label_codes == LABELS.index(name))
        assert all((xy[rows] == point).all(axis=1).any() for point in collection.get_offsets())
    assert [c.get_label() for c in drawn] == [
        f"{name} ({np.sum(label_codes == code)})" for code, name in enumerate(LABELS)]
    (hexbin,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert hexbin.get_array().sum() == np.sum(label_codes == -1)
    assert "12 of 30 labeled drawn" in ax.get_legend().get_title().get_text()


def test_coverage_map_rejects_codes_and_queue_positions_out_of_range(coverage_map):
    xy, label_codes, _ = coverage_map
    with pytest.raises(ValueError, match="label_codes"):
        plot_coverage(xy, np.where(label_codes == 2, 5, label_codes), LABELS)
    with pytest.raises(ValueError, match="queued"):
        plot_coverage(xy, label_codes, LABELS, queued=[600])


# -- learning curve ------------------------------------------------------------------------------

def test_learning_curve_plots_accuracy_against_labels_and_marks_the_best():
    n_labels, accuracy = [10, 20, 40, 80], [0.61, 0.72, 0.80, 0.78]
    ax = plot_learning_curve(n_labels, accuracy).axes[0]
    curve, best = ax.lines[:2]
    assert np.array_equal(curve.get_xdata(), n_labels)
    assert np.array_equal(curve.get_ydata(), accuracy)
    assert (best.get_xdata()[0], best.get_ydata()[0]) == (40, 0.80)
    assert "best: 80.0% at 40 labels" in all_texts(ax.figure)


def test_learning_curve_hints_at_a_plateau_when_the_last_fits_gain_under_one_point():
    n_labels = [10, 20, 30, 40, 50, 60]
    flat = plot_learning_curve(n_labels, [0.5, 0.7, 0.800, 0.803, 0.806, 0.809])
    assert any(text.startswith("plateau: +0.9 points over the last 3 fits")
               for text in all_texts(flat))
    (span,) = flat.axes[0].patches
    assert (span.get_x(), span.get_x() + span.get_width()) == (30, 60)
    rising = plot_learning_curve(n_labels, [0.5, 0.6, 0.7, 0.75, 0.8, 0.85])
    assert not any(text.startswith("plateau") for text in all_texts(rising))


def test_learning_curve_leaves_out_fits_without_an_estimate():
    ax = plot_learning_curve([5, 10, 20], [np.nan, 0.6, 0.7]).axes[0]
    assert np.array_equal(ax.lines[0].get_xdata(), [10, 20])


# -- label counts --------------------------------------------------------------------------------

def test_label_counts_stack_every_source_per_label():
    counts = pd.DataFrame({"weak": [40, 0, 7], "hand": [5, 3, 2], "suggestion-corrected": [1, 0, 0],
                           "suggestion-accepted": [4, 1, 0]}, index=LABELS)
    ax = plot_label_counts(counts).axes[0]
    containers = bar_containers(ax)
    assert [c.get_label().split(" (")[0] for c in containers] == list(plots.SOURCES)
    left = np.zeros(3)
    for container, source in zip(containers, plots.SOURCES):
        assert [p.get_width() for p in container] == counts[source].tolist()
        assert np.allclose([p.get_x() for p in container], left)
        left += counts[source].to_numpy()
    assert [t.get_text() for t in ax.get_yticklabels()] == LABELS
    assert ax.yaxis_inverted()  # first label on top
    assert {"50", "4", "9"} <= set(all_texts(ax.figure))  # totals at the bar ends


def test_label_counts_with_only_some_sources():
    counts = pd.DataFrame({"hand": [2, 1]}, index=["yes", "no"])
    ax = plot_label_counts(counts).axes[0]
    (container,) = bar_containers(ax)
    assert [p.get_width() for p in container] == [2, 1]


def test_label_counts_reject_unknown_sources():
    with pytest.raises(ValueError, match="unknown"):
        plot_label_counts(pd.DataFrame({"hand": [1], "guess": [2]}, index=["a"]))


# -- rendering -----------------------------------------------------------------------------------

def png_size(data):
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])


def test_figure_to_png_gives_png_bytes_at_the_asked_resolution(pool):
    fig = plot_confidence(*pool, LABELS, threshold=0.3)
    assert png_size(figure_to_png(fig)) == (700, 350)
    assert png_size(figure_to_png(fig, dpi=50)) == (350, 175)


def test_new_figures_display_in_a_notebook_as_png(pool):
    assert plot_confidence(*pool, LABELS)._repr_png_()[:8] == PNG_MAGIC
    assert empty_figure("nothing")._repr_png_()[:8] == PNG_MAGIC


def test_no_figure_is_left_in_pyplot(pool, coverage_map):
    plot_confidence(*pool, LABELS)
    plot_coverage(coverage_map[0], coverage_map[1], LABELS)
    figure_to_png(plot_learning_curve([1, 2], [0.5, 0.6]))
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []
