"""Figures show what the user needs: read back what each figure contains."""

import io
import struct
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import LogNorm, to_rgb, to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from PIL import Image
from sklearn.decomposition import PCA

from activelabel_widget import plots
from activelabel_widget.plots import (
    CARD_WIDTH_PX,
    CONFIDENCE_BINS,
    INK,
    NOTEBOOK_WIDTH_PX,
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


def caption(fig):
    """The caption under the axes: the last text of the first axes."""
    return fig.axes[0].texts[-1].get_text()


def flat(text):
    """Text with its line breaks (from wrapping) turned back into spaces."""
    return " ".join(text.split())


def bar_containers(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def relative_luminance(color):
    channels = np.array(to_rgb(color))
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast(a, b):
    high, low = sorted([relative_luminance(a), relative_luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def rgba_png(fig, **kwargs):
    return Image.open(io.BytesIO(figure_to_png(fig, **kwargs))).convert("RGBA")


# -- palette -------------------------------------------------------------------------------------

def test_palette_is_okabe_ito():
    okabe_ito = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                 "#CC79A7"}
    assert set(PALETTE) == okabe_ito
    assert PALETTE[-1] == "#000000"  # black is kept for marks, not labels


def test_the_first_four_label_colours_read_on_white_and_on_near_black():
    for color in label_colors(4):
        assert contrast(color, "#ffffff") >= 3.0 and contrast(color, "#111111") >= 3.0, color


def test_ink_grey_reads_as_text_on_white_and_on_near_black():
    assert contrast(INK, "#ffffff") >= 4.3
    assert contrast(INK, "#111111") >= 4.3


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
    assert "query threshold 0.35" in legend
    assert "queued next lie at or left of the dashed line (0.35)" in flat(caption(ax.figure))


def test_confidence_without_threshold_draws_no_threshold_line(pool):
    confidence, predicted = pool
    ax = plot_confidence(confidence, predicted, LABELS).axes[0]
    assert not [line for line in ax.lines if "threshold" in line.get_label()]
    assert "dashed line" not in caption(ax.figure)


def test_confidence_says_how_many_records_are_below_one_half(pool):
    confidence, predicted = pool
    fig = plot_confidence(confidence, predicted, LABELS)
    below = int(np.sum(confidence < 0.5))  # 0.5 itself is not below
    share = round(100 * below / len(confidence))
    assert f"{below:,} records ({share}%) below 0.5 are closer to a guess than to certain" in flat(
        caption(fig))


def test_confidence_outlines_the_hand_labeled_rows(pool, rng):
    confidence, predicted = pool
    hand = rng.beta(5, 1, size=60)
    fig = plot_confidence(confidence, predicted, LABELS, labeled_confidence=hand)
    steps = [p for ax in fig.axes for p in ax.patches if isinstance(p, StepPatch)]
    assert len(steps) == 1
    expected, _ = np.histogram(hand, bins=20, range=(0, 1))
    assert np.array_equal(steps[0].get_data().values, expected)
    assert np.allclose(steps[0].get_data().edges, np.linspace(0, 1, 21))
    assert "hand-labeled (60), right axis" in all_texts(fig)
    assert "Outline, right axis: the 60 hand-labeled records" in flat(caption(fig))
    # black line in a white casing, in the legend too: it reads on a light and a dark page
    (handle,) = [h for h, t in zip(fig.axes[0].get_legend().legend_handles,
                                   fig.axes[0].get_legend().get_texts())
                 if t.get_text().startswith("hand-labeled")]
    assert steps[0].get_path_effects() and handle.get_path_effects()


def test_confidence_title_and_axes_say_what_is_shown(pool):
    confidence, predicted = pool
    ax = plot_confidence(confidence, predicted, LABELS).axes[0]
    assert ax.get_title(loc="left") == "Model confidence on 2,000 unlabeled records"
    assert ax.get_xlabel() == "confidence (0 = all labels equally likely, 1 = certain)"
    assert ax.get_ylabel() == "unlabeled records per bin"
    words = flat(caption(ax.figure))
    assert "Bars: the 2,000 unlabeled records in bins of 0.05" in words
    assert "coloured by the label the model predicts (records per label in brackets)" in words


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
    assert tuple(fig.get_size_inches()) == (6.4, 4.8)  # someone else's figure keeps its size


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
    assert "unlabeled (570)" in all_texts(ax.figure)
    assert ("Grey: the 570 unlabeled records, more opaque where denser; grey without coloured "
            "points is unexplored") in flat(caption(ax.figure))
    # one grey, denser cells more opaque: stronger on a light and on a dark page alike
    low, high = hexbin.cmap(0.0), hexbin.cmap(1.0)
    assert low[:3] == high[:3] and low[3] < 0.3 < 0.9 < high[3]


def test_coverage_map_title_gives_the_coverage_share(coverage_map):
    xy, label_codes, _ = coverage_map
    ax = plot_coverage(xy, label_codes, LABELS, coverage=(0.4234, 1.25)).axes[0]
    assert ax.get_title(loc="left") == "42% of the records are within 1.2 of a labeled record"


def test_coverage_map_caption_says_what_the_radius_is(coverage_map, blobs):
    xy, label_codes, _ = coverage_map
    share, radius = coverage_share(blobs[0], label_codes >= 0)
    words = flat(caption(plot_coverage(xy, label_codes, LABELS, coverage=(share, radius))))
    assert (f"Within {radius:.2g}: closer than a record typically is to its nearest 1% of the "
            "data (the median distance to its 6th nearest neighbour), measured in the embedding "
            f"space, not on this map: these {share:.0%} are the explored part of the data") in words
    # ... and that is what coverage_share computed: 1% of the 599 other rows, rounded up, is 6
    distances = np.linalg.norm(blobs[0][:, None, :] - blobs[0][None, :, :], axis=2)
    np.fill_diagonal(distances, np.inf)
    assert radius == pytest.approx(np.median(np.sort(distances, axis=1)[:, 5]), rel=1e-5)


def test_coverage_map_caption_on_a_large_pool_names_the_sample_and_a_given_radius():
    xy = np.random.default_rng(1).normal(size=(5_000, 2))
    codes = np.full(5_000, -1)
    codes[:50] = 0
    words = flat(caption(plot_coverage(xy, codes, ["a"], coverage=(0.3, 0.25))))
    assert "its 20th nearest neighbour among 2,000 records drawn at random" in words
    given = flat(caption(plot_coverage(xy, codes, ["a"], coverage=(0.3, 0.25), neighborhood=None)))
    assert "Within 0.25: a distance set by the caller" in given


def test_coverage_map_without_a_share_still_explains_the_marks(coverage_map):
    xy, label_codes, queued = coverage_map
    fig = plot_coverage(xy, label_codes, LABELS, queued=queued)
    assert fig.axes[0].get_title(loc="left") == "Labeled records on the embedding map"
    words = flat(caption(fig))
    assert "Stars: the 4 records queued next." in words
    assert "2-D projection of the embeddings" in words and "Within" not in words


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
    assert "12 of the 30 labeled records are drawn, picked at random" in flat(caption(ax.figure))


def test_coverage_map_rejects_codes_and_queue_positions_out_of_range(coverage_map):
    xy, label_codes, _ = coverage_map
    with pytest.raises(ValueError, match="label_codes"):
        plot_coverage(xy, np.where(label_codes == 2, 5, label_codes), LABELS)
    with pytest.raises(ValueError, match="queued"):
        plot_coverage(xy, label_codes, LABELS, queued=[600])


# -- learning curve ------------------------------------------------------------------------------

def test_learning_curve_plots_accuracy_against_labels_and_singles_out_no_best():
    n_labels, accuracy = [10, 20, 40, 80], [0.61, 0.72, 0.80, 0.78]
    ax = plot_learning_curve(n_labels, accuracy).axes[0]
    (curve,) = ax.lines
    assert np.array_equal(curve.get_xdata(), n_labels)
    assert np.array_equal(curve.get_ydata(), accuracy)
    texts = " ".join(all_texts(ax.figure)).lower()
    assert "best" not in texts and "*" not in [line.get_marker() for line in ax.lines]


def test_learning_curve_shades_a_95_percent_interval_from_the_number_of_labels():
    n_labels, accuracy = np.array([7, 30, 300]), np.array([2 / 3, 0.7, 0.7])
    ax = plot_learning_curve(n_labels, accuracy).axes[0]
    (band,) = [c for c in ax.collections if c.get_label() == "95% interval"]
    vertices = band.get_paths()[0].vertices
    z = 1.96
    for n, p in zip(n_labels, accuracy):  # Wilson score interval, by hand
        center = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        ys = vertices[np.isclose(vertices[:, 0], n), 1]
        assert ys.min() == pytest.approx(center - half) and ys.max() == pytest.approx(center + half)
    widths = [np.ptp(vertices[np.isclose(vertices[:, 0], n), 1]) for n in n_labels]
    assert widths[0] > 0.5 > widths[1] > 0.3 > widths[2]  # 7 labels: a 55-point wide interval
    assert "95% interval" in all_texts(ax.figure)


def test_learning_curve_interval_is_not_empty_at_a_perfect_score():
    ax = plot_learning_curve([6, 12], [1.0, 1.0]).axes[0]
    (band,) = [c for c in ax.collections if c.get_label() == "95% interval"]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.max() == pytest.approx(1.0) and ys.min() < 0.7  # 6 of 6 right says little


def test_learning_curve_explains_its_axes_and_warns_about_few_labels():
    few = plot_learning_curve([7, 12, 20], [0.667, 0.6, 0.7])
    ax = few.axes[0]
    assert ax.get_xlabel() == "labels the model was fitted on"
    assert ax.get_ylabel() == "estimated accuracy"
    words = flat(caption(few))
    assert ("Each point: the share of the labeled records the model predicted right when it was "
            "trained without them (cross-validation), after a fit on that many labels") in words
    assert "Shaded: the 95% interval of each estimate" in words
    assert "Estimates from fewer than 30 labels vary a lot" in words
    enough = flat(caption(plot_learning_curve([40, 60, 80], [0.7, 0.75, 0.78])))
    assert "vary a lot" not in enough
    assert "vary a lot" in flat(caption(plot_learning_curve([40, 60], [0.7, 0.8], min_labels=50)))


def test_learning_curve_marks_a_flat_stretch_only_on_enough_labels():
    n_labels = [30, 40, 50, 60, 70, 80]
    stalled = plot_learning_curve(n_labels, [0.5, 0.7, 0.800, 0.803, 0.806, 0.809])
    assert any(text.startswith("flat: +0.9 points over the last 3 fits")
               for text in all_texts(stalled))
    (span,) = stalled.axes[0].patches
    assert (span.get_x(), span.get_x() + span.get_width()) == (50, 80)
    assert "Flat: the last 3 fits moved the estimate by under 1 point" in flat(caption(stalled))
    rising = plot_learning_curve(n_labels, [0.5, 0.6, 0.7, 0.75, 0.8, 0.85])
    assert not any(text.startswith("flat") for text in all_texts(rising))
    early = plot_learning_curve([5, 10, 15, 20, 25, 30], [0.5, 0.7, 0.800, 0.803, 0.806, 0.809])
    assert not early.axes[0].patches  # flat on 15 labels is noise, not a plateau


def test_learning_curve_leaves_out_fits_without_an_estimate():
    ax = plot_learning_curve([5, 10, 20], [np.nan, 0.6, 0.7]).axes[0]
    assert np.array_equal(ax.lines[0].get_xdata(), [10, 20])


# -- label counts --------------------------------------------------------------------------------

def test_label_counts_stack_every_source_per_label():
    counts = pd.DataFrame({"weak": [40, 0, 7], "hand": [5, 3, 2], "suggestion-corrected": [1, 0, 0],
                           "suggestion-accepted": [4, 1, 0], "corrected": [0, 2, 0], "imported": [3, 0, 0], "bulk": [0, 6, 0],
                           "adjudicated": [0, 0, 1]}, index=LABELS)
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
    assert {"53", "12", "10"} <= set(all_texts(ax.figure))  # totals at the bar ends
    words = flat(caption(ax.figure))
    assert "the number at its end is the label's total" in words
    assert "(records per source in brackets)" in words
    for meaning in ("hand = typed on the card",
                    "weak = from the heuristics, not checked by a person",
                    "suggestion-accepted = the model's suggestion, accepted",
                    "suggestion-corrected = a suggestion replaced by another label"):
        assert meaning in words


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


def test_figure_to_png_gives_png_bytes_at_the_asked_width(pool):
    fig = plot_confidence(*pool, LABELS, threshold=0.3)
    width, height = png_size(figure_to_png(fig))
    assert width == NOTEBOOK_WIDTH_PX == 700 and 300 < height < 600  # as high as its content
    assert png_size(figure_to_png(fig, dpi=50)) == (350, round(height / 2))
    card = plot_confidence(*pool, LABELS, threshold=0.3, width_px=CARD_WIDTH_PX)
    assert png_size(figure_to_png(card))[0] == CARD_WIDTH_PX == 520
    assert png_size(figure_to_png(plot_confidence(*pool, LABELS, width_px=480)))[0] == 480


def test_figure_width_below_200_pixels_is_refused(pool):
    with pytest.raises(ValueError, match="width_px"):
        plot_confidence(*pool, LABELS, width_px=120)


def test_png_background_is_transparent_in_the_figure_and_in_the_axes(pool):
    fig = plot_confidence(*pool, LABELS, threshold=0.3, width_px=CARD_WIDTH_PX)
    image = np.asarray(rgba_png(fig))
    assert image[0, 0, 3] == 0 and image[-1, -1, 3] == 0  # figure corners
    height = image.shape[0]
    x0, y0, x1, y1 = (fig.axes[0].get_position().extents * [520, height, 520, height]).round()
    inside = image[int(height - y1) + 2:int(height - y0) - 2, int(x0) + 2:int(x1) - 2]
    assert (inside[..., 3] == 0).mean() > 0.25  # between and above the bars: see-through
    opaque_white = (image[..., 3] == 255) & (image[..., :3] == 255).all(axis=-1)
    assert not opaque_white.any()  # no white paint anywhere: nothing glares on a dark page


def test_png_can_keep_an_opaque_background_of_someone_elses_figure():
    fig = Figure(facecolor="white")
    fig.add_subplot()
    assert rgba_png(fig, transparent=False).getpixel((0, 0)) == (255, 255, 255, 255)
    assert rgba_png(fig).getpixel((0, 0))[3] == 0


def card_figures(pool, coverage_map):
    confidence, predicted = pool
    xy, label_codes, queued = coverage_map
    counts = pd.DataFrame({"hand": [5, 3, 2], "weak": [40, 0, 7]}, index=LABELS)
    return {
        "confidence": plot_confidence(confidence, predicted, LABELS, threshold=0.3,
                                      labeled_confidence=confidence[:60], width_px=CARD_WIDTH_PX),
        "coverage": plot_coverage(xy, label_codes, LABELS, queued=queued, coverage=(0.42, 1.3),
                                  width_px=CARD_WIDTH_PX),
        "learning curve": plot_learning_curve([7, 12, 20, 30, 40, 50],
                                              [0.5, 0.6, 0.7, 0.7, 0.7, 0.7],
                                              width_px=CARD_WIDTH_PX),
        "label counts": plot_label_counts(counts, width_px=CARD_WIDTH_PX),
        "empty": empty_figure("No model yet: label at least 2 examples of 2 labels",
                              width_px=CARD_WIDTH_PX),
    }


def visible_texts(fig):
    """Every text drawn: titles, axis and tick labels in view, legend entries, texts."""
    texts = []
    for ax in fig.axes:
        texts += list(ax.texts)
        if not ax.axison:
            continue
        texts += [ax._left_title, ax.title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            locs = axis.get_majorticklocs()
            texts += [label for tick, loc in zip(axis.get_major_ticks(len(locs)), locs)
                      if low - 1e-9 <= loc <= high + 1e-9 for label in (tick.label1, tick.label2)]
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def test_card_figures_keep_text_legible_at_480_pixels_and_in_ink_grey(pool, coverage_map):
    for name, fig in card_figures(pool, coverage_map).items():
        assert round(fig.get_figwidth() * fig.dpi) == CARD_WIDTH_PX, name
        for text in visible_texts(fig):
            shown = text.get_fontsize() * fig.dpi / 72 * 480 / CARD_WIDTH_PX
            assert shown >= 9, (name, text.get_text(), shown)
            assert to_rgb(text.get_color()) == to_rgb(INK), (name, text.get_text())


def test_card_figures_stack_title_legend_axes_and_caption_inside_the_figure(pool, coverage_map):
    for name, fig in card_figures(pool, coverage_map).items():
        if name == "empty":
            continue
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        ax = fig.axes[0]
        box = ax.get_window_extent(renderer)
        legend = ax.get_legend().get_window_extent(renderer)
        title = ax._left_title.get_window_extent(renderer)
        note = ax.texts[-1].get_window_extent(renderer)
        xlabel = ax.xaxis.label.get_window_extent(renderer)
        assert legend.y0 >= box.y1, name  # the legend sits above the data, never over it
        assert title.y0 >= legend.y1 - 1, name
        assert xlabel.y0 >= note.y1, name  # the caption comes under the x label
        width, height = fig.get_size_inches() * fig.dpi
        for text in visible_texts(fig):
            extent = text.get_window_extent(renderer)
            assert extent.x0 >= 0 and extent.x1 <= width, (name, text.get_text(), extent)
            assert extent.y0 >= 0 and extent.y1 <= height, (name, text.get_text(), extent)
        assert legend.x1 <= width and legend.x0 >= 0, name


def test_new_figures_display_in_a_notebook_as_png(pool):
    assert plot_confidence(*pool, LABELS)._repr_png_()[:8] == PNG_MAGIC
    assert empty_figure("nothing")._repr_png_()[:8] == PNG_MAGIC


def test_no_figure_is_left_in_pyplot(pool, coverage_map):
    plot_confidence(*pool, LABELS)
    plot_coverage(coverage_map[0], coverage_map[1], LABELS)
    figure_to_png(plot_learning_curve([1, 2], [0.5, 0.6]))
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []
