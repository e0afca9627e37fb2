"""Figures over plain arrays: confidence, coverage map, learning curve, label counts.

Every function builds on the object-oriented matplotlib API (:class:`matplotlib.figure.Figure`,
never ``pyplot``), so figures can be drawn in a background thread and nothing global is created
or closed. Each plot function returns the Figure it drew on: a new one sized for a notebook
(7 x 3.5 inches) or, when ``ax=`` is given, the figure that holds ``ax``. Missing or empty input
gives a figure with a message that says what to do, never an exception or a blank plot.

New figures show inline in Jupyter by themselves (they render to PNG through
:func:`figure_to_png`); :func:`figure_to_png` also gives the bytes for the card.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
from matplotlib.colors import ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter
from sklearn.utils import check_random_state

from activelabel_widget._projection import coverage_share, project_2d
from activelabel_widget import sources as _sources

__all__ = [
    "PALETTE",
    "CONFIDENCE_BINS",
    "SOURCES",
    "label_colors",
    "empty_figure",
    "figure_to_png",
    "plot_confidence",
    "project_2d",
    "coverage_share",
    "plot_coverage",
    "plot_learning_curve",
    "plot_label_counts",
]

#: Okabe-Ito colours, safe for the common colour-vision deficiencies. Labels take them in this
#: order (blue and orange first: the pair that stays apart for everyone); black comes last and
#: is kept for marks (threshold, queued records, hand-labeled outline).
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Fixed confidence bins: 20 bins of width 0.05 over [0, 1], each closed on the left, the last
#: one closed on both sides (the same bins as ``numpy.histogram(x, bins=20, range=(0, 1))``).
CONFIDENCE_BINS = 20
_EDGES = np.linspace(0.0, 1.0, CONFIDENCE_BINS + 1)

#: Where a label came from (:mod:`.sources`), in the order the label-count bars stack them.
SOURCES = _sources.SOURCES
_SOURCE_COLORS = {_sources.HAND: PALETTE[0], _sources.CORRECTED: PALETTE[2], _sources.ACCEPTED: PALETTE[5],
                  _sources.WEAK: PALETTE[1]}

_FIGSIZE = (7.0, 3.5)
_TITLE_SIZE = 11
_HEADROOM = 1.2  # y range over the tallest bar: room for the in-axes text line
_MARK = "#000000"
# Greys without the near-white end, so a cell with a single record still shows on white.
_DENSITY_CMAP = ListedColormap(
    [(g, g, g) for g in np.linspace(0.86, 0.25, 256)], name="activelabel_density"
)


def label_colors(n_labels):
    """Colour of each label, as hex strings.

    Parameters
    ----------
    n_labels : int

    Returns
    -------
    list of str, length n_labels
        The first seven Okabe-Ito colours of :data:`PALETTE`; beyond seven labels the 18
        non-grey colours of matplotlib's ``tab20``, strong tones first (grey is kept for the
        unlabeled density), repeated after 18: distinct, but no longer safe for every reader.

    Examples
    --------
    >>> label_colors(2)
    ['#0072B2', '#E69F00']
    """
    if n_labels <= len(PALETTE) - 1:
        return list(PALETTE[:n_labels])
    from matplotlib import colormaps  # noqa: PLC0415 (registry lookup, read only)

    order = [i for i in list(range(0, 20, 2)) + list(range(1, 20, 2)) if i not in (14, 15)]
    return [to_hex(colormaps["tab20"](order[i % len(order)])) for i in range(n_labels)]


class _NotebookFigure(Figure):
    """A Figure that Jupyter displays as PNG without pyplot or an inline backend."""

    def _repr_png_(self):
        return figure_to_png(self)


def _root_figure(ax):
    get = getattr(ax, "get_figure", None)
    try:
        return get(root=True)
    except TypeError:  # matplotlib < 3.10: no root keyword, ax.figure is the figure
        return ax.figure


def _new_axes(ax, figsize=_FIGSIZE):
    """(figure, axes): a fresh notebook-sized figure, or the figure holding the given axes."""
    if ax is not None:
        return _root_figure(ax), ax
    fig = _NotebookFigure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _write_message(ax, message):
    ax.set_axis_off()
    ax.text(0.5, 0.5, textwrap.fill(str(message), 60), ha="center", va="center",
            fontsize=12, color="#444444", transform=ax.transAxes)


def empty_figure(message, *, ax=None):
    """A figure that says why there is nothing to plot yet, and what to do about it.

    Parameters
    ----------
    message : str
        Shown centred, wrapped at 60 characters.
    ax : matplotlib.axes.Axes, optional
        Write into these axes (turned off) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = empty_figure("No model yet: label at least 2 examples of 2 labels")
    >>> fig.axes[0].texts[0].get_text()
    'No model yet: label at least 2 examples of 2 labels'
    """
    fig, ax = _new_axes(ax)
    _write_message(ax, message)
    return fig


def figure_to_png(fig, *, dpi=100):
    """Render a figure to PNG bytes with the Agg renderer.

    The figure's own canvas is left in place (so an interactive figure stays interactive) and
    nothing is closed or registered globally.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : float, default 100
        A 7 x 3.5 inch figure gives 700 x 350 pixels at 100.

    Returns
    -------
    bytes
        Starting with the PNG signature ``b"\\x89PNG\\r\\n\\x1a\\n"``.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"figure_to_png needs a matplotlib Figure; got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _is_empty(values):
    return values is None or np.size(values) == 0


def _vector(values, name, *, dtype=None):
    array = np.asarray(values) if dtype is None else np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {array.shape}")
    return array


def _codes(values, name, *, n, low, high):
    codes = _vector(values, name)
    if codes.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},); got {codes.shape}")
    if codes.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer label codes; got dtype {codes.dtype}")
    if n and (codes.min() < low or codes.max() >= high):
        raise ValueError(f"{name} must lie in [{low}, {high - 1}] for {high} labels; "
                         f"got values from {codes.min()} to {codes.max()}")
    return codes


def _percent(share):
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{share:.0%}"


def _bin_index(values):
    """Bin of each value in [0, 1] among the fixed confidence bins (as numpy.histogram)."""
    index = np.searchsorted(_EDGES, values, side="right") - 1
    return np.minimum(index, CONFIDENCE_BINS - 1)


def plot_confidence(confidence, predicted, labels, *, labeled_confidence=None, threshold=None,
                    ax=None):
    """How sure the model is over the unlabeled pool, stacked by predicted label.

    Confidence is ``1 - entropy / log(K)`` of the predicted probabilities: 0 means every label
    is equally likely (50/50 with two labels), 1 means certain. Bars count unlabeled records in
    the 20 fixed bins of width 0.05 over [0, 1] (:data:`CONFIDENCE_BINS`; values outside [0, 1]
    from rounding are clipped, non-finite ones left out), one colour per predicted label. The
    hand-labeled rows' confidence is drawn over them as a black outline on its own scale (right
    axis), for contrast: a model much surer on its training rows than on the pool has not seen
    the pool's hard regions yet. The query threshold is a dashed vertical line; the records to
    the left of it come next. A line of text in the top left corner (above the tallest bar)
    says how many records are below 0.5.

    Parameters
    ----------
    confidence : array-like of shape (n,)
        Confidence of each unlabeled record (see ``activelabel_widget.strategies.confidence``).
    predicted : array-like of int, shape (n,)
        Predicted label code of each record, 0 <= code < len(labels).
    labels : list of str
        Label names, indexed by code.
    labeled_confidence : array-like of shape (m,), optional
        Confidence on the hand-labeled rows.
    threshold : float, optional
        Confidence under which records are queried next.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: one BarContainer per label (in code order, label
        ``"<name> (<count>)"``), the outline as a StepPatch on a twin axes, the threshold as a
        Line2D, the below-0.5 count as a Text ("... below 0.5"). An explanatory message instead
        when ``confidence`` is None or empty.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_confidence(rng.uniform(size=500), rng.integers(0, 3, 500), ["a", "b", "c"],
    ...                       threshold=0.3)
    >>> len(fig.axes[0].containers)
    3
    """
    if _is_empty(confidence):
        return empty_figure("No model yet: label at least 2 examples of 2 labels to see how "
                            "sure the model is about the rest.", ax=ax)
    conf = _vector(confidence, "confidence", dtype=np.float64)
    labels = [str(name) for name in labels]
    if not labels:
        raise ValueError("labels must name at least one label")
    pred = _codes(predicted, "predicted", n=len(conf), low=0, high=len(labels))
    finite = np.isfinite(conf)
    if not finite.any():
        return empty_figure("No confidence to show: every value is NaN or infinite.", ax=ax)
    conf, pred = np.clip(conf[finite], 0.0, 1.0), pred[finite]
    k = len(labels)
    counts = np.bincount(_bin_index(conf) * k + pred, minlength=CONFIDENCE_BINS * k)
    counts = counts.reshape(CONFIDENCE_BINS, k)

    fig, ax = _new_axes(ax)
    colors = label_colors(k)
    bottom = np.zeros(CONFIDENCE_BINS, dtype=np.int64)
    for code, (name, color) in enumerate(zip(labels, colors)):
        ax.bar(_EDGES[:-1], counts[:, code], width=1.0 / CONFIDENCE_BINS, bottom=bottom,
               align="edge", color=color, edgecolor="white", linewidth=0.5,
               label=f"{name} ({int(counts[:, code].sum()):,})")
        bottom = bottom + counts[:, code]
    handles, names = ax.get_legend_handles_labels()

    if not _is_empty(labeled_confidence):
        hand = _vector(labeled_confidence, "labeled_confidence", dtype=np.float64)
        hand = np.clip(hand[np.isfinite(hand)], 0.0, 1.0)
        hand_counts = np.bincount(_bin_index(hand), minlength=CONFIDENCE_BINS)
        twin = ax.twinx()
        step = twin.stairs(hand_counts, _EDGES, color=_MARK, linewidth=1.6,
                           label=f"hand-labeled ({len(hand):,})")
        twin.set_ylabel("hand-labeled rows (outline)")
        twin.set_ylim(0, max(1, hand_counts.max()) * _HEADROOM)
        twin.yaxis.set_major_locator(MaxNLocator(integer=True))
        handles.append(step)
        names.append(step.get_label())

    if threshold is not None:
        line = ax.axvline(float(threshold), color=_MARK, linestyle="--", linewidth=1.5,
                          label=f"query threshold {float(threshold):.2f}\n(next queries below)")
        handles.append(line)
        names.append(line.get_label())

    below = int(np.count_nonzero(conf < 0.5))
    ax.set_title(f"Model confidence on {len(conf):,} unlabeled records", fontsize=_TITLE_SIZE)
    # The headroom above the tallest bar keeps this line clear of the bars.
    ax.text(0.015, 0.975, f"{below:,} records ({_percent(below / len(conf))}) below 0.5",
            transform=ax.transAxes, ha="left", va="top", fontsize=9, zorder=5,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, max(1, bottom.max()) * _HEADROOM)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("confidence (0 = all labels equally likely, 1 = certain)")
    ax.set_ylabel("unlabeled records")
    ax.legend(handles, names, title="predicted label", loc="upper left", fontsize=8,
              title_fontsize=8, alignment="left", frameon=False,
              bbox_to_anchor=(1.0 if _is_empty(labeled_confidence) else 1.13, 1.0))
    return fig


def plot_coverage(xy, label_codes, labels, *, queued=None, coverage=None, ax=None,
                  max_points=50_000, random_state=0, gridsize=60):
    """Where the labels are on the embedding map, and where nobody has looked yet.

    Unlabeled records are a grey density (hexbin, log colour scale, every unlabeled record
    counted, never subsampled): grey areas without coloured points are unexplored. Labeled
    records are points coloured by label (:func:`label_colors`), the legend gives each label's
    count. Records queued next are white stars with a black edge. With ``coverage`` the title
    reads "42% of the pool is within r = 1.3 of a label" (see :func:`coverage_share`).

    Parameters
    ----------
    xy : array-like of shape (n, 2)
        Map coordinates (e.g. :func:`project_2d`); rows with NaN are left out.
    label_codes : array-like of int, shape (n,)
        Label code of each row, -1 for unlabeled.
    labels : list of str
        Label names, indexed by code.
    queued : array-like of int, optional
        Row positions of the records queued next.
    coverage : tuple (share, radius), optional
        As returned by :func:`coverage_share`.
    ax : matplotlib.axes.Axes, optional
    max_points : int, default 50_000
        Above this many labeled rows, a uniform random subset of this size is drawn as points
        (legend counts stay exact; the legend title says so).
    random_state : int, numpy.random.RandomState or None, default 0
        Seeds that subset.
    gridsize : int, default 60
        Hexagons across the x axis.

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: the hexbin (a PolyCollection with a LogNorm), one PathCollection per label
        in code order (label ``"<name> (<count>)"``), then one for the queued stars.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).normal(size=(300, 2))
    >>> codes = np.full(300, -1); codes[:10] = [0, 1] * 5
    >>> fig = plot_coverage(xy, codes, ["a", "b"], queued=[20, 21], coverage=(0.4, 1.2))
    >>> fig.axes[0].get_title()
    '40% of the pool is within r = 1.2 of a label'
    """
    if _is_empty(xy):
        return empty_figure("No map yet: it needs embeddings (pass embeddings=..., or let the "
                            "default features compute them).", ax=ax)
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy must have shape (n, 2); got {xy.shape}")
    labels = [str(name) for name in labels]
    codes = _codes(label_codes, "label_codes", n=len(xy), low=-1, high=max(len(labels), 0))
    if queued is None:
        queued = np.zeros(0, dtype=np.int64)
    queued = _vector(queued, "queued")
    if len(queued) and (queued.dtype.kind not in "iu" or queued.min() < 0
                        or queued.max() >= len(xy)):
        raise ValueError(f"queued must hold row positions in [0, {len(xy) - 1}]")
    finite = np.isfinite(xy).all(axis=1)
    if not finite.any():
        return empty_figure("No map to show: every coordinate is NaN or infinite.", ax=ax)

    fig, ax = _new_axes(ax)
    x_low, y_low = xy[finite].min(axis=0)
    x_high, y_high = xy[finite].max(axis=0)
    pad_x = 0.03 * (x_high - x_low) or 1.0
    pad_y = 0.03 * (y_high - y_low) or 1.0
    extent = (x_low - pad_x, x_high + pad_x, y_low - pad_y, y_high + pad_y)

    handles = []
    unlabeled = finite & (codes == -1)
    n_unlabeled = int(np.count_nonzero(codes == -1))
    if unlabeled.any():
        ax.hexbin(xy[unlabeled, 0], xy[unlabeled, 1], gridsize=gridsize, extent=extent,
                  bins="log", mincnt=1, cmap=_DENSITY_CMAP, linewidths=0.2, edgecolors="face",
                  zorder=1)
    handles.append(Patch(facecolor=_DENSITY_CMAP(0.55), edgecolor="none",
                         label=f"unlabeled ({n_unlabeled:,}), darker = denser"))

    labeled = np.flatnonzero(finite & (codes >= 0))
    shown = labeled
    if len(labeled) > max_points:
        rng = check_random_state(random_state)
        shown = np.sort(rng.choice(labeled, size=max_points, replace=False))
    legend_points = []
    few = len(shown) <= 2_000
    size, edge = (22, 0.4) if few else (5, 0.0)  # dense clouds: edges would paint them dark
    for code, (name, color) in enumerate(zip(labels, label_colors(len(labels)))):
        rows = shown[codes[shown] == code]
        points = ax.scatter(xy[rows, 0], xy[rows, 1], s=size, facecolors=color,
                            edgecolors="#222222", linewidths=edge, zorder=3,
                            label=f"{name} ({int(np.count_nonzero(codes == code)):,})")
        handles.append(points)
        legend_points.append(points)
    if len(queued):
        stars = ax.scatter(xy[queued, 0], xy[queued, 1], marker="*", s=170,
                           facecolors="white", edgecolors=_MARK, linewidths=1.1, zorder=4,
                           label=f"queued next ({len(queued):,})")
        handles.append(stars)

    if coverage is not None:
        share, radius = coverage
        share, radius = _percent(float(share)), f"{float(radius):.2g}"
        title = f"{share} of the pool is within r = {radius} of a label"
    else:
        title = "Labeled records on the embedding map"
    ax.set_title(title, fontsize=_TITLE_SIZE)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("map axis 1")
    ax.set_ylabel("map axis 2")
    legend_title = None
    if len(shown) < len(labeled):
        legend_title = f"{len(shown):,} of {len(labeled):,} labeled drawn"
    legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                       title=legend_title, title_fontsize=8, frameon=False, scatterpoints=1)
    for handle, artist in zip(legend.legend_handles, handles):
        if artist in legend_points:
            handle.set_sizes([22])  # legend dots readable even when the cloud uses tiny dots
    return fig


def plot_learning_curve(n_labels, accuracy, *, ax=None, window=3, min_gain=0.01):
    """Cross-validated accuracy after each fit against the number of labels.

    Points are drawn in fit order. The best estimate is a star. When the last ``window`` fits
    together gained less than ``min_gain`` (1 point) of accuracy, that stretch is shaded and the
    legend says "plateau": more labels of the same kind help little; try other records
    (e.g. a diversity strategy) or accept the model.

    Parameters
    ----------
    n_labels : array-like of int, shape (f,)
        Labels the model was fitted on, one entry per fit.
    accuracy : array-like of float, shape (f,)
        Cross-validated accuracy in [0, 1] of each fit; NaN (no estimate) is left out.
    ax : matplotlib.axes.Axes, optional
    window : int, default 3
        Fits the plateau test looks back over: gain = accuracy[-1] - accuracy[-1 - window].
    min_gain : float, default 0.01
        Gain below which the curve is called a plateau.

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: the curve (first Line2D), the best point (second Line2D), and, on a
        plateau, a shaded span whose legend entry starts with "plateau".

    Examples
    --------
    >>> fig = plot_learning_curve([10, 20, 40], [0.6, 0.7, 0.74])
    >>> fig.axes[0].lines[0].get_ydata().tolist()
    [0.6, 0.7, 0.74]
    """
    if _is_empty(n_labels) or _is_empty(accuracy):
        return empty_figure("No quality estimate yet: it appears after the first fits, once "
                            "every label has a few examples for cross-validation.", ax=ax)
    n = _vector(n_labels, "n_labels", dtype=np.float64)
    acc = _vector(accuracy, "accuracy", dtype=np.float64)
    if n.shape != acc.shape:
        raise ValueError(f"n_labels and accuracy must have the same length; got {len(n)} "
                         f"and {len(acc)}")
    keep = np.isfinite(n) & np.isfinite(acc)
    if not keep.any():
        return empty_figure("No quality estimate yet: every fit so far was too small to "
                            "cross-validate.", ax=ax)
    n, acc = n[keep], acc[keep]

    fig, ax = _new_axes(ax)
    ax.plot(n, acc, marker="o", markersize=4, color=PALETTE[0], linewidth=1.6,
            label="cross-validated accuracy")
    best = int(np.argmax(acc))
    ax.plot([n[best]], [acc[best]], marker="*", markersize=14, linestyle="none",
            color=PALETTE[1], markeredgecolor=_MARK, zorder=3,
            label=f"best: {acc[best]:.1%} at {int(n[best]):,} labels")
    if len(acc) > window:
        gain = acc[-1] - acc[-1 - window]
        if gain < min_gain:
            ax.axvspan(n[-1 - window], n[-1], color="#999999", alpha=0.2, linewidth=0,
                       label=f"plateau: {gain * 100:+.1f} points over the last {window} fits")
    ax.set_title("Quality estimate after each fit", fontsize=_TITLE_SIZE)
    ax.set_xlabel("hand labels")
    ax.set_ylabel("cross-validated accuracy")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    x_pad = 0.04 * (n.max() - n.min()) or 1.0
    ax.set_xlim(n.min() - x_pad, n.max() + x_pad)
    low, high = acc.min(), acc.max()
    pad = max(0.02, 0.1 * (high - low))
    ax.set_ylim(max(0.0, low - pad), min(1.0, high + pad) + 0.005)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def plot_label_counts(counts, *, ax=None):
    """Labels per label name, stacked by where they came from: hand, accepted suggestion, weak.

    Parameters
    ----------
    counts : pandas.DataFrame
        Index: label names (drawn top to bottom in index order). Columns: any of
        :data:`SOURCES` (``"hand"``, ``"suggestion-accepted"``, ``"suggestion-corrected"``,
        ``"weak"``), non-negative counts.
    ax : matplotlib.axes.Axes, optional
        Without it the figure grows with the number of labels.

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: one BarContainer per source present, in :data:`SOURCES` order, bar widths
        equal to the counts; the total of each label written at the end of its bar.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"hand": [5, 3], "weak": [40, 0]}, index=["bug", "question"])
    >>> [float(p.get_width()) for p in plot_label_counts(counts).axes[0].containers[0]]
    [5.0, 3.0]
    """
    message = "No labels yet: label a few records and their counts show here."
    if counts is None or counts.shape[0] == 0 or counts.shape[1] == 0:
        return empty_figure(message, ax=ax)
    unknown = [column for column in counts.columns if column not in SOURCES]
    if unknown:
        raise ValueError(f"counts columns must be among {SOURCES}; got unknown {unknown}")
    sources = [source for source in SOURCES if source in counts.columns]
    values = counts[sources].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)) or (values < 0).any():
        raise ValueError("counts must be non-negative whole numbers")
    totals = values.sum(axis=1)
    if totals.sum() == 0:
        return empty_figure(message, ax=ax)

    names = [str(name) for name in counts.index]
    height = min(8.0, max(2.2, 0.4 * len(names) + 1.3))
    fig, ax = _new_axes(ax, figsize=(_FIGSIZE[0], height))
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for column, source in enumerate(sources):
        ax.barh(y, values[:, column], left=left, height=0.65, color=_SOURCE_COLORS[source],
                edgecolor="white", linewidth=0.5,
                label=f"{source} ({int(values[:, column].sum()):,})")
        left = left + values[:, column]
    for row, total in enumerate(totals):
        ax.annotate(f"{int(total):,}", (total, row), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=9)
    ax.set_yticks(y, names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, totals.max() * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("labeled records")
    ax.set_title(f"Labels by source ({int(totals.sum()):,} in all)", fontsize=_TITLE_SIZE)
    ax.legend(title="source", loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              title_fontsize=8, alignment="left", frameon=False)
    return fig
