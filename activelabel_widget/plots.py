"""Figures over plain arrays: confidence, coverage map, learning curve, label counts.

Every function builds on the object-oriented matplotlib API (:class:`matplotlib.figure.Figure`,
never ``pyplot``), so figures can be drawn in a background thread and nothing global is created
or closed. Each plot function returns the Figure it drew on: a new one ``width_px`` pixels wide
(:data:`NOTEBOOK_WIDTH_PX` by default, :data:`CARD_WIDTH_PX` suits the card's insights panel)
whose height follows its content, or, when ``ax=`` is given, the figure that holds ``ax``.
Missing or empty input gives a figure with a message that says what to do, never an exception or
a blank plot.

Every figure reads on a light and on a dark page: new figures have a transparent background;
text, ticks, spines and grid are :data:`INK`, a mid grey with a contrast of 4.3:1 on white
(``#ffffff``) and on near-black (``#111111``); data take the colours of :data:`PALETTE`. A
title names what is shown, a legend above the axes (never over the data) names the marks, and
a caption under the axes says in words what every number on the figure means.

New figures show inline in Jupyter by themselves (they render to PNG through
:func:`figure_to_png`, transparent as well: the same figure then suits JupyterLab's light and
dark themes); :func:`figure_to_png` also gives the bytes for the card.
"""

from __future__ import annotations

import functools
import io

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.colors import ListedColormap, to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.patheffects import Normal, withStroke
from matplotlib.ticker import MaxNLocator, PercentFormatter
from matplotlib.transforms import ScaledTranslation
from sklearn.utils import check_random_state

from activelabel_widget import sources as _sources
from activelabel_widget._projection import coverage_share, project_2d, radius_rank

__all__ = [
    "PALETTE",
    "INK",
    "CONFIDENCE_BINS",
    "SOURCES",
    "PNG_DPI",
    "NOTEBOOK_WIDTH_PX",
    "CARD_WIDTH_PX",
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
#: order. The first four (blue, vermillion, bluish green, reddish purple) have a contrast of at
#: least 3:1 both on white and on near-black (#111111), so they read in light and dark themes;
#: blue and vermillion, the first pair, stay far apart under every simulated colour-vision
#: deficiency. Orange and sky blue (2.3:1 on white) and yellow (1.3:1 on white) come after them;
#: black comes last and is kept for the edges of marks.
PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Text, ticks, spines and grid: contrast 4.35:1 on white (#ffffff) and 4.34:1 on near-black
#: (#111111), above the 3:1 that large text and graphics need on either page.
INK = "#797979"

#: Fixed confidence bins: 20 bins of width 0.05 over [0, 1], each closed on the left, the last
#: one closed on both sides (the same bins as ``numpy.histogram(x, bins=20, range=(0, 1))``).
CONFIDENCE_BINS = 20
_EDGES = np.linspace(0.0, 1.0, CONFIDENCE_BINS + 1)

#: Where a label came from (:mod:`.sources`), in the order the label-count bars stack them.
SOURCES = _sources.SOURCES
_BLUE, _VERMILLION, _GREEN, _PURPLE, _ORANGE, _SKY, _YELLOW, _BLACK = PALETTE
# Accepted suggestions are a lighter blue than hand labels: both are a person's label.
_SOURCE_COLORS = {_sources.HAND: _BLUE, _sources.ACCEPTED: _SKY, _sources.CORRECTED: _GREEN,
                  _sources.RELABELED: _PURPLE, _sources.IMPORTED: _ORANGE, _sources.BULK: _YELLOW,
                  _sources.WEAK: _VERMILLION, _sources.ADJUDICATED: "#999999"}
_SOURCE_MEANING = {
    _sources.HAND: "typed on the card",
    _sources.ACCEPTED: "the model's suggestion, accepted",
    _sources.CORRECTED: "a suggestion replaced by another label",
    _sources.RELABELED: "an earlier label changed in review or from the history",
    _sources.IMPORTED: "brought in from earlier labels",
    _sources.BULK: "a region of the map labeled at once",
    _sources.WEAK: "from the heuristics, not checked by a person",
    _sources.ADJUDICATED: "settles a record annotators answered differently",
}

#: Pixels per inch of every new figure and of :func:`figure_to_png`: one figure pixel is one
#: PNG pixel.
PNG_DPI = 100
#: Width of a new figure shown in a notebook.
NOTEBOOK_WIDTH_PX = 700
#: Width that suits the card's insights panel (the card is about 480-560 px wide).
CARD_WIDTH_PX = 520

# Font sizes in points. At PNG_DPI, 8 pt is 11.1 px: still 10.2 px when a 520 px figure is
# shown 480 px wide, and 9 px or more down to 420 px.
_TITLE_PT = 10
_LABEL_PT = 9
_SMALL_PT = 8
_GAP_PT = 4.0  # between the axes and the legend, the legend and the title, the x label and caption
_PAD_PX = 10.0  # empty margin at the figure's edges
_CAPTION_LINE = 1.25  # caption line spacing, in font sizes
_MARK = _BLACK
_UNLABELED_GREY = "#8a8a8a"
# Unlabeled density: one grey, more opaque where denser. On white it goes from light to mid
# grey, on a dark page from dark to mid grey: denser cells always stand out from the page.
_DENSITY_CMAP = ListedColormap(
    [(*to_rgb(_UNLABELED_GREY), alpha) for alpha in np.linspace(0.22, 0.95, 256)],
    name="activelabel_density",
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
    ['#0072B2', '#D55E00']
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


def _width_inches(width_px):
    width = NOTEBOOK_WIDTH_PX if width_px is None else width_px
    if not (np.isfinite(width) and width >= 200):
        raise ValueError(f"width_px must be at least 200 pixels; got {width_px}")
    return float(width) / PNG_DPI


def _new_axes(ax, width_px, aspect=0.5):
    """(figure, axes, owned): a new transparent figure, or the figure holding the given axes.

    A new figure starts ``aspect`` times as high as wide; :func:`_finish` lays it out and sets
    its final height.
    """
    if ax is not None:
        return _root_figure(ax), ax, False
    width = _width_inches(width_px)
    fig = _NotebookFigure(figsize=(width, width * aspect), dpi=PNG_DPI, facecolor="none",
                          edgecolor="none")
    ax = fig.add_subplot()
    ax.set_facecolor("none")
    return fig, ax, True


def _measurer(fig):
    """A renderer that only measures text (the figure's own canvas is left alone)."""
    return RendererAgg(1, 1, fig.dpi)


def _text_size(renderer, text, points):
    """(width, height, descent) in pixels of one line of text."""
    return renderer.get_text_width_height_descent(text, FontProperties(size=points),
                                                  ismath=False)


@functools.lru_cache(maxsize=4096)
def _char_width(char, points, dpi):
    renderer = RendererAgg(1, 1, dpi)
    return _text_size(renderer, char, points)[0]


def _line_width(text, points, dpi):
    """Width in pixels of one line, summed over its characters (cached; kerning left out)."""
    return sum(_char_width(char, points, dpi) for char in text)


def _wrap(text, width_px, points, renderer):
    """Greedy word wrap at a measured width; ``\n`` in ``text`` starts a new paragraph."""
    dpi = renderer.dpi
    space = _char_width(" ", points, dpi)
    width_px = width_px * 0.98  # room for what the sum of characters leaves out
    lines = []
    for paragraph in str(text).split("\n"):
        line, used = "", 0.0
        for word in paragraph.split():
            size = _line_width(word, points, dpi)
            if line and used + space + size > width_px:
                lines.append(line)
                line, used = word, size
            else:
                line, used = (f"{line} {word}", used + space + size) if line else (word, size)
        lines.append(line)
    return "\n".join(lines)


def _style(ax, *, grid=None, spines=("left", "bottom")):
    """Ink-grey ticks, tick labels, spines and axis labels; a faint grid along ``grid``."""
    ax.tick_params(which="both", colors=INK, labelcolor=INK, labelsize=_SMALL_PT)
    for name, spine in ax.spines.items():
        spine.set_edgecolor(INK)
        spine.set_visible(name in spines)
    for label in (ax.xaxis.label, ax.yaxis.label):
        label.set_color(INK)
        label.set_fontsize(_LABEL_PT)
    if grid:
        ax.grid(True, axis=grid, color=INK, alpha=0.3, linewidth=0.6)
        ax.set_axisbelow(True)


def _row_major(items, ncols):
    """Order ``items`` so that a legend (filled column by column) reads row by row."""
    rows = -(-len(items) // ncols)
    return [items[row * ncols + col] for col in range(ncols) for row in range(rows)
            if row * ncols + col < len(items)]


def _legend_above(ax, handles, names, width_px, renderer):
    """A frameless legend right above the axes, in as many columns as fit in ``width_px``."""
    fig = _root_figure(ax)
    anchor = ax.transAxes + ScaledTranslation(0, _GAP_PT / 72, fig.dpi_scale_trans)
    for ncols in range(len(handles), 0, -1):
        ordered = _row_major(handles, ncols)
        legend = ax.legend(ordered, _row_major(names, ncols),
                           loc="lower left", bbox_to_anchor=(0, 1), bbox_transform=anchor,
                           ncols=ncols, borderaxespad=0, borderpad=0, frameon=False,
                           fontsize=_SMALL_PT, labelcolor=INK, handlelength=1.4,
                           handletextpad=0.5, columnspacing=1.2, labelspacing=0.3,
                           scatterpoints=1)
        if legend.get_window_extent(renderer).width <= width_px:
            break
    for handle, drawn in zip(ordered, legend.legend_handles):
        effects = getattr(handle, "get_path_effects", list)()
        if effects:  # a cased line keeps its casing in the legend
            drawn.set_path_effects(effects)
    return legend


def _decorations(ax, renderer):
    """Pixels the axes' decorations need (left, right, below): tick labels, axis labels.

    Measured on the axes and its twins at their current position; only the x axis counts below
    (the title, legend and caption are placed by :func:`_finish`).
    """
    box = ax.get_window_extent(renderer)
    left = right = 0.0
    for axes in ax.get_shared_x_axes().get_siblings(ax):
        decor = axes.yaxis.get_tightbbox(renderer)
        if decor is not None:
            left = max(left, box.x0 - decor.x0)
            right = max(right, decor.x1 - box.x1)
    decor = ax.xaxis.get_tightbbox(renderer)
    below = 0.0 if decor is None else max(0.0, box.y0 - decor.y0)
    return left, right, below


def _finish(fig, ax, owned, *, title, caption, handles=(), names=(), axes_height=3.0):
    """Title, legend above the axes, caption under the x label; a new figure is laid out here.

    Top to bottom: title, legend, axes, x axis, caption, each ``_GAP_PT`` apart, all flush with
    the axes' left edge and wrapped to end at the figure's right margin (so that nothing covers
    the data and nothing sticks out of the figure). A new figure keeps its width, gets
    ``axes_height`` inches of axes and grows by what the rest needs; the given axes of someone
    else's figure are not moved.
    """
    renderer = _measurer(fig)
    dpi = fig.dpi
    points = dpi / 72
    fig_width = fig.get_figwidth() * dpi
    if owned:  # a provisional place, for measuring what the axes need around them
        fig.set_figheight(axes_height + 2.5)
        ax.set_position([0.15, 0.4, 0.7, axes_height / fig.get_figheight()])
        left, right, below = _decorations(ax, renderer)
        width = fig_width - left - 2 * _PAD_PX  # may reach over a twin's (free) right margin
    else:
        width = ax.get_window_extent(renderer).width
    legend_height = 0.0
    if handles:
        legend = _legend_above(ax, list(handles), list(names), width, renderer)
        legend_height = legend.get_window_extent(renderer).height / points
    _, title_height, title_descent = _text_size(renderer, title, _TITLE_PT)
    pad = 2 * _GAP_PT + legend_height + title_descent / points if handles else _GAP_PT * 1.5
    ax.set_title(title, loc="left", pad=pad, fontsize=_TITLE_PT, color=INK, fontweight="bold")
    # Under the x label (its bounding box is the y coordinate system), flush with the axes.
    note = ax.annotate(_wrap(caption, width, _SMALL_PT, renderer), xy=(0, 0),
                       xycoords=("axes fraction", ax.xaxis.label), xytext=(0, -_GAP_PT),
                       textcoords="offset points", ha="left", va="top", fontsize=_SMALL_PT,
                       color=INK, linespacing=_CAPTION_LINE, annotation_clip=False)
    if owned:
        above = pad * points + title_height - title_descent
        under = _GAP_PT * points + note.get_window_extent(renderer).height
        for final in (False, True):  # ticks can change with the axes' final size: measure again
            height = _PAD_PX + under + below + axes_height * dpi + above + _PAD_PX
            fig.set_figheight(height / dpi)
            ax.set_position([(_PAD_PX + left) / fig_width, (_PAD_PX + under + below) / height,
                             (fig_width - left - right - 2 * _PAD_PX) / fig_width,
                             axes_height * dpi / height])
            if final:
                break
            measured = _decorations(ax, renderer)
            if np.allclose(measured, (left, right, below), atol=0.5):
                break
            left, right, below = measured
    return fig


def _write_message(ax, message, width_px, renderer):
    ax.set_axis_off()
    ax.text(0.5, 0.5, _wrap(message, width_px, _LABEL_PT + 1, renderer), ha="center",
            va="center", fontsize=_LABEL_PT + 1, color=INK, transform=ax.transAxes,
            linespacing=_CAPTION_LINE)


def empty_figure(message, *, ax=None, width_px=None):
    """A figure that says why there is nothing to plot yet, and what to do about it.

    Parameters
    ----------
    message : str
        Shown centred, wrapped to the figure's width.
    ax : matplotlib.axes.Axes, optional
        Write into these axes (turned off) instead of a new figure.
    width_px : int, optional
        Width of a new figure in pixels; :data:`NOTEBOOK_WIDTH_PX` by default.

    Returns
    -------
    matplotlib.figure.Figure
        Transparent when new, its height fitted to the message.

    Examples
    --------
    >>> fig = empty_figure("No model yet: label at least 2 examples of 2 labels")
    >>> fig.axes[0].texts[0].get_text()
    'No model yet: label at least 2 examples of 2 labels'
    """
    fig, ax, owned = _new_axes(ax, width_px, aspect=0.25)
    renderer = _measurer(fig)
    width = (fig.get_figwidth() * fig.dpi if owned else ax.get_window_extent(renderer).width)
    _write_message(ax, message, width - 4 * _PAD_PX, renderer)
    if owned:
        ax.set_position([0, 0, 1, 1])
        lines = ax.texts[0].get_text().count("\n") + 1
        height = lines * (_LABEL_PT + 1) * _CAPTION_LINE / 72 + 0.5
        fig.set_figheight(max(height, 1.0))
    return fig


def figure_to_png(fig, *, dpi=PNG_DPI, transparent=True):
    """Render a figure to PNG bytes with the Agg renderer.

    The figure's own canvas is left in place (so an interactive figure stays interactive) and
    nothing is closed or registered globally.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : float, default 100
        Pixels per inch (:data:`PNG_DPI`): a figure made with ``width_px=520`` gives a PNG
        520 pixels wide at 100.
    transparent : bool, default True
        Leave the figure's and the axes' backgrounds transparent (an RGBA PNG that reads on a
        light and a dark page); False keeps the backgrounds the figure has.

    Returns
    -------
    bytes
        Starting with the PNG signature ``b"\\x89PNG\\r\\n\\x1a\\n"``.

    Examples
    --------
    >>> import io
    >>> from PIL import Image
    >>> png = figure_to_png(empty_figure("Nothing yet", width_px=520))
    >>> image = Image.open(io.BytesIO(png))
    >>> image.mode, image.width, image.getpixel((0, 0))[3]
    ('RGBA', 520, 0)
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"figure_to_png needs a matplotlib Figure; got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, transparent=bool(transparent))
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


def _ordinal(k):
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k:,}{suffix}"


def _bin_index(values):
    """Bin of each value in [0, 1] among the fixed confidence bins (as numpy.histogram)."""
    index = np.searchsorted(_EDGES, values, side="right") - 1
    return np.minimum(index, CONFIDENCE_BINS - 1)


def plot_confidence(confidence, predicted, labels, *, labeled_confidence=None, threshold=None,
                    ax=None, width_px=None, least_sure=False):
    """How sure the model is over the unlabeled pool, stacked by predicted label.

    Confidence is ``1 - entropy / log(K)`` of the predicted probabilities: 0 means every label
    is equally likely (50/50 with two labels), 1 means certain. Bars count unlabeled records in
    the 20 fixed bins of width 0.05 over [0, 1] (:data:`CONFIDENCE_BINS`; values outside [0, 1]
    from rounding are clipped, non-finite ones left out), one colour per predicted label. The
    hand-labeled rows' confidence is drawn over them as an outline (a black line in a white
    casing, so it reads on a light page, on a dark page and over the bars) on its own scale
    (right axis), for contrast: a model much surer on its training rows than on the pool has not
    seen the pool's hard regions yet. The query threshold is a dashed vertical line; the records
    queued next lie at or left of it. The legend sits above the axes; the caption under them
    says what the bars, the counts, the outline and the line mean, and how many records are
    below 0.5.

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
        Highest confidence among the records queued next.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of on a new figure.
    width_px : int, optional
        Width of a new figure in pixels (:data:`NOTEBOOK_WIDTH_PX` by default,
        :data:`CARD_WIDTH_PX` for the card); its height follows. Ignored with ``ax``.
    least_sure : bool, default False
        Multi-label: ``confidence`` is each record's least sure label's (see
        :mod:`activelabel_widget.multilabel`) and ``predicted`` that label; the axis and the
        caption say so.

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: one BarContainer per label (in code order, label
        ``"<name> (<count>)"``), the outline as a StepPatch on a twin axes, the threshold as a
        Line2D, the caption as the axes' last Text. An explanatory message instead when
        ``confidence`` is None or empty.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_confidence(rng.uniform(size=500), rng.integers(0, 3, 500), ["a", "b", "c"],
    ...                       threshold=0.3, width_px=520)
    >>> len(fig.axes[0].containers), round(fig.get_figwidth() * fig.dpi)
    (3, 520)
    >>> "below 0.5" in fig.axes[0].texts[-1].get_text()
    True
    """
    if _is_empty(confidence):
        return empty_figure("No model yet: label at least 2 examples of 2 labels to see how "
                            "sure the model is about the rest.", ax=ax, width_px=width_px)
    conf = _vector(confidence, "confidence", dtype=np.float64)
    labels = [str(name) for name in labels]
    if not labels:
        raise ValueError("labels must name at least one label")
    pred = _codes(predicted, "predicted", n=len(conf), low=0, high=len(labels))
    finite = np.isfinite(conf)
    if not finite.any():
        return empty_figure("No confidence to show: every value is NaN or infinite.", ax=ax,
                            width_px=width_px)
    conf, pred = np.clip(conf[finite], 0.0, 1.0), pred[finite]
    k = len(labels)
    counts = np.bincount(_bin_index(conf) * k + pred, minlength=CONFIDENCE_BINS * k)
    counts = counts.reshape(CONFIDENCE_BINS, k)

    fig, ax, owned = _new_axes(ax, width_px)
    colors = label_colors(k)
    bottom = np.zeros(CONFIDENCE_BINS, dtype=np.int64)
    for code, (name, color) in enumerate(zip(labels, colors)):
        ax.bar(_EDGES[:-1], counts[:, code], width=1.0 / CONFIDENCE_BINS, bottom=bottom,
               align="edge", color=color, edgecolor=color, linewidth=0.4,  # no seams
               label=f"{name} ({int(counts[:, code].sum()):,})")
        bottom = bottom + counts[:, code]
    handles, names = ax.get_legend_handles_labels()
    spines = ("left", "bottom")
    below = int(np.count_nonzero(conf < 0.5))
    coloured_by = ("each record's least sure label (the one whose probability is nearest 0.5; records per "
                   "label in brackets); a record is as sure as its least sure label; " if least_sure else
                   "the label the model predicts (records per label in brackets); ")
    explained = [f"Bars: the {len(conf):,} unlabeled records in bins of 0.05, coloured by "
                 + coloured_by +
                 f"{below:,} records ({_percent(below / len(conf))}) below 0.5 are closer to a "
                 "guess than to certain."]

    if not _is_empty(labeled_confidence):
        hand = _vector(labeled_confidence, "labeled_confidence", dtype=np.float64)
        hand = np.clip(hand[np.isfinite(hand)], 0.0, 1.0)
        hand_counts = np.bincount(_bin_index(hand), minlength=CONFIDENCE_BINS)
        twin = ax.twinx()
        twin.set_facecolor("none")
        # A black line in a white casing: black reads on a light page, the casing on a dark
        # one, and together they stand out over the coloured bars.
        step = twin.stairs(hand_counts, _EDGES, color=_MARK, linewidth=1.3,
                           label=f"hand-labeled ({len(hand):,}), right axis",
                           path_effects=[withStroke(linewidth=3.2, foreground="white"), Normal()])
        twin.set_ylabel("hand-labeled records per bin")
        twin.set_ylim(0, max(1, hand_counts.max()) * 1.05)
        twin.yaxis.set_major_locator(MaxNLocator(integer=True))
        _style(twin, spines=("right",))
        spines = ("left", "bottom", "right")
        handles.append(step)
        names.append(step.get_label())
        explained.append(f"Outline, right axis: the {len(hand):,} hand-labeled records; a model "
                         "much surer on them than on the bars has not yet seen the hard cases.")

    if threshold is not None:
        line = ax.axvline(float(threshold), color=INK, linestyle="--", linewidth=1.5,
                          label=f"query threshold {float(threshold):.2f}")
        handles.append(line)
        names.append(line.get_label())
        explained.append(f"The records queued next lie at or left of the dashed line "
                         f"({float(threshold):.2f}).")

    ax.set_xlim(0, 1)
    ax.set_ylim(0, max(1, bottom.max()) * 1.05)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("confidence of the least sure label (0 = 50/50, 1 = certain)" if least_sure
                  else "confidence (0 = all labels equally likely, 1 = certain)")
    ax.set_ylabel("unlabeled records per bin")
    _style(ax, grid="y", spines=spines)
    return _finish(fig, ax, owned, title=f"Model confidence on {len(conf):,} unlabeled records",
                   caption=" ".join(explained), handles=handles, names=names,
                   axes_height=0.42 * fig.get_figwidth())


def _distance(value):
    """Two significant digits, keeping one decimal below 10: 1.04 -> '1.0', 23.4 -> '23'."""
    text = f"{value:.2g}"
    if "e" not in text and "." not in text and abs(value) < 10:
        text = f"{value:.1f}"
    return text


def _radius_words(radius, neighborhood, n_rows):
    """What "within ``radius``" means, in words (see :func:`coverage_share`)."""
    where = "measured in the embedding space, not on this map"
    if neighborhood is None:
        return f"Within {radius}: a distance set by the caller, {where}"
    k, among = radius_rank(n_rows, neighborhood)
    rank = "nearest neighbour" if k == 1 else f"{_ordinal(k)} nearest neighbour"
    sampled = f" among {among:,} records drawn at random" if among < n_rows else ""
    share = f"{neighborhood:.0%}" if neighborhood >= 0.01 else f"{neighborhood:.1%}"
    return (f"Within {radius}: closer than a record typically is to its nearest {share} of the "
            f"data (the median distance to its {rank}{sampled}), {where}")


def plot_coverage(xy, label_codes, labels, *, queued=None, coverage=None, neighborhood=0.01,
                  ax=None, max_points=50_000, random_state=0, gridsize=60, width_px=None):
    """Where the labels are on the embedding map, and where nobody has looked yet.

    Unlabeled records are a grey density (hexbin, log scale, every unlabeled record counted,
    never subsampled; denser cells are more opaque, so they stand out on a light and on a dark
    page): grey areas without coloured points are unexplored. Labeled records are points
    coloured by label (:func:`label_colors`), the legend gives each label's count. Records
    queued next are white stars with a black edge. With ``coverage`` the title reads "42% of the
    records are within 1.3 of a labeled record" and the caption says what 1.3 is (see
    :func:`coverage_share`): distances are measured in the embedding space, not on the map.

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
        As returned by :func:`coverage_share` on the same n rows.
    neighborhood : float or None, default 0.01
        The ``neighborhood`` the radius was computed with (the default radius of
        :func:`coverage_share`), for the caption's explanation of it; None when the radius was
        given to :func:`coverage_share` explicitly.
    ax : matplotlib.axes.Axes, optional
    max_points : int, default 50_000
        Above this many labeled rows, a uniform random subset of this size is drawn as points
        (legend counts stay exact; the caption says so).
    random_state : int, numpy.random.RandomState or None, default 0
        Seeds that subset.
    gridsize : int, default 60
        Hexagons across the x axis.
    width_px : int, optional
        Width of a new figure in pixels (:data:`NOTEBOOK_WIDTH_PX` by default,
        :data:`CARD_WIDTH_PX` for the card); its height follows. Ignored with ``ax``.

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: the hexbin (a PolyCollection with a LogNorm), one PathCollection per label
        in code order (label ``"<name> (<count>)"``), then one for the queued stars; the caption
        is the axes' last Text.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.random.default_rng(0).normal(size=(300, 2))
    >>> codes = np.full(300, -1); codes[:10] = [0, 1] * 5
    >>> fig = plot_coverage(xy, codes, ["a", "b"], queued=[20, 21], coverage=(0.4, 1.2))
    >>> fig.axes[0].get_title(loc="left")
    '40% of the records are within 1.2 of a labeled record'
    >>> "nearest 1% of the data" in fig.axes[0].texts[-1].get_text()
    True
    """
    if _is_empty(xy):
        return empty_figure("No map yet: it needs embeddings (pass embeddings=..., or let the "
                            "default features compute them).", ax=ax, width_px=width_px)
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
        return empty_figure("No map to show: every coordinate is NaN or infinite.", ax=ax,
                            width_px=width_px)

    fig, ax, owned = _new_axes(ax, width_px, aspect=0.7)
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
                  bins="log", mincnt=1, cmap=_DENSITY_CMAP, linewidths=0, edgecolors="none",
                  zorder=1)
    handles.append(Patch(facecolor=_DENSITY_CMAP(0.55), edgecolor="none",
                         label=f"unlabeled ({n_unlabeled:,})"))

    labeled = np.flatnonzero(finite & (codes >= 0))
    shown = labeled
    if len(labeled) > max_points:
        rng = check_random_state(random_state)
        shown = np.sort(rng.choice(labeled, size=max_points, replace=False))
    legend_points = []
    few = len(shown) <= 2_000
    size, edge = (22, 0.5) if few else (5, 0.0)  # dense clouds: edges would paint them dark
    for code, (name, color) in enumerate(zip(labels, label_colors(len(labels)))):
        rows = shown[codes[shown] == code]
        points = ax.scatter(xy[rows, 0], xy[rows, 1], s=size, facecolors=color,
                            edgecolors=_MARK, linewidths=edge, zorder=3,
                            label=f"{name} ({int(np.count_nonzero(codes == code)):,})")
        handles.append(points)
        legend_points.append(points)
    if len(queued):
        stars = ax.scatter(xy[queued, 0], xy[queued, 1], marker="*", s=150,
                           facecolors="white", edgecolors=_MARK, linewidths=0.9, zorder=4,
                           label=f"queued next ({len(queued):,})")
        handles.append(stars)

    explained = []
    if coverage is not None:
        share, radius = coverage
        share, radius = _percent(float(share)), _distance(float(radius))
        title = f"{share} of the records are within {radius} of a labeled record"
        explained.append(f"{_radius_words(radius, neighborhood, len(xy))}: these {share} are the "
                         "explored part of the data.")
    else:
        title = "Labeled records on the embedding map"
    explained.append(f"Grey: the {n_unlabeled:,} unlabeled records, more opaque where denser; "
                     "grey without coloured points is unexplored. Points: labeled records "
                     "(records per label in brackets).")
    if len(shown) < len(labeled):
        explained.append(f"{len(shown):,} of the {len(labeled):,} labeled records are drawn, "
                         "picked at random.")
    if len(queued):
        explained.append(f"Stars: the {len(queued):,} records queued next.")
    explained.append("The map is a 2-D projection of the embeddings: nearby points are similar "
                     "records, its axes have no units.")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("map axis 1")
    ax.set_ylabel("map axis 2")
    _style(ax, spines=("left", "bottom", "top", "right"))
    _finish(fig, ax, owned, title=title, caption=" ".join(explained), handles=handles,
            names=[handle.get_label() for handle in handles],
            axes_height=0.62 * fig.get_figwidth())
    legend = ax.get_legend()
    point_names = {point.get_label() for point in legend_points}
    for handle, text in zip(legend.legend_handles, legend.get_texts()):
        if text.get_text() in point_names:
            handle.set_sizes([30])  # legend dots readable even when the cloud uses tiny dots
    return fig


def _wilson(p, n, z=1.96):
    """Wilson score interval of a share ``p`` measured on ``n`` trials (95% at z = 1.96)."""
    denominator = 1 + z ** 2 / n
    center = (p + z ** 2 / (2 * n)) / denominator
    half = z / denominator * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2))
    return np.clip(center - half, 0, 1), np.clip(center + half, 0, 1)


def plot_learning_curve(n_labels, accuracy, *, ax=None, window=3, min_gain=0.01, min_labels=30,
                        width_px=None, stop_hint=None, metric="accuracy"):
    """Cross-validated accuracy after each fit against the number of labels, with its spread.

    Points are drawn in fit order. Each estimate carries a shaded 95% interval: the Wilson score
    interval of a share measured on ``n_labels`` records (cross-validation predicts each label
    once, with a model that did not see it). It leaves out the fold-to-fold spread and that
    consecutive estimates share their labels, so it is a lower bound on the real uncertainty.
    No estimate is singled out as the best: from a few dozen labels the differences between
    fits are mostly noise. When some estimates come from fewer than ``min_labels`` labels, the
    caption says that they vary a lot. When the last ``window`` fits (all on at least
    ``min_labels`` labels) together changed the accuracy by less than ``min_gain`` (1 point),
    that stretch is shaded and the legend says "flat".

    Parameters
    ----------
    n_labels : array-like of int, shape (f,)
        Labels the model was fitted on, one entry per fit.
    accuracy : array-like of float, shape (f,)
        Cross-validated accuracy in [0, 1] of each fit; NaN (no estimate) is left out.
    ax : matplotlib.axes.Axes, optional
    window : int, default 3
        Fits the flat-stretch test looks back over: gain = accuracy[-1] - accuracy[-1 - window].
    min_gain : float, default 0.01
        Gain below which the stretch is called flat.
    min_labels : int, default 30
        Below this many labels an estimate is called rough in the caption.
    width_px : int, optional
        Width of a new figure in pixels (:data:`NOTEBOOK_WIDTH_PX` by default); its height
        follows. Ignored with ``ax``.
    stop_hint : (float or None, str), optional
        ``(labels when the stop hint fired or None, its sentence)`` (see
        :meth:`~activelabel_widget.session.LabelingSession.stop_hint`): the sentence goes into the
        caption, and a dashed line marks where it fired.
    metric : str, default "accuracy"
        What ``accuracy`` measures, as the axis and title name it ("micro-F1" for label sets).

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: the curve (first Line2D), the interval (a PolyCollection whose legend
        entry is "95% interval"), on a flat stretch a shaded span whose legend entry starts
        with "flat", where the stop hint fired a dashed line whose legend entry starts with
        "stop hint"; the caption is the axes' last Text.

    Examples
    --------
    >>> fig = plot_learning_curve([10, 20, 40], [0.6, 0.7, 0.74])
    >>> fig.axes[0].lines[0].get_ydata().tolist()
    [0.6, 0.7, 0.74]
    >>> "vary a lot" in fig.axes[0].texts[-1].get_text()
    True
    """
    if _is_empty(n_labels) or _is_empty(accuracy):
        return empty_figure("No quality estimate yet: it appears after the first fits, once "
                            "every label has a few examples for cross-validation.", ax=ax,
                            width_px=width_px)
    n = _vector(n_labels, "n_labels", dtype=np.float64)
    acc = _vector(accuracy, "accuracy", dtype=np.float64)
    if n.shape != acc.shape:
        raise ValueError(f"n_labels and accuracy must have the same length; got {len(n)} "
                         f"and {len(acc)}")
    keep = np.isfinite(n) & np.isfinite(acc)
    if not keep.any():
        return empty_figure("No quality estimate yet: every fit so far was too small to "
                            "cross-validate.", ax=ax, width_px=width_px)
    n, acc = n[keep], acc[keep]

    fig, ax, owned = _new_axes(ax, width_px)
    low, high = _wilson(np.clip(acc, 0, 1), np.maximum(n, 1))
    # A faint fill with a firmer edge: the band's extent reads on a light and a dark page.
    band = ax.fill_between(n, low, high, facecolor=(*to_rgb(_BLUE), 0.22),
                           edgecolor=(*to_rgb(_BLUE), 0.7), linewidth=0.6, label="95% interval")
    (curve,) = ax.plot(n, acc, marker="o", markersize=4, color=_BLUE, linewidth=1.6,
                       label="accuracy estimate")
    handles = [curve, band]
    explained = ["Each point: the share of the labeled records the model predicted right when "
                 "it was trained without them (cross-validation), after a fit on that many "
                 "labels. Shaded: the 95% interval of each estimate from the number of labels "
                 "it rests on."]
    if (n < min_labels).any():
        explained.append(f"Estimates from fewer than {min_labels} labels vary a lot: read them "
                         "as rough, not as a ranking of the fits.")
    if len(acc) > window and n[-1 - window] >= min_labels:
        gain = acc[-1] - acc[-1 - window]
        if gain < min_gain:
            span = ax.axvspan(n[-1 - window], n[-1], color=INK, alpha=0.15, linewidth=0,
                              label=f"flat: {gain * 100:+.1f} points over the last {window} "
                                    "fits")
            handles.append(span)
            explained.append(f"Flat: the last {window} fits moved the estimate by under "
                             f"{min_gain * 100:.0f} point, well inside its interval; if it "
                             "stays flat, more labels like these add little.")
    if stop_hint is not None:
        fired_at, sentence = stop_hint
        if fired_at is not None:
            handles.append(ax.axvline(fired_at, color=INK, linestyle="--", linewidth=1.2,
                                      label=f"stop hint at {fired_at:,.0f} labels"))
        explained.append(f"Stop hint: {sentence}")
    ax.set_xlabel("labels the model was fitted on")
    ax.set_ylabel(f"estimated {metric}")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    x_pad = 0.04 * (n.max() - n.min()) or 1.0
    ax.set_xlim(n.min() - x_pad, n.max() + x_pad)
    bottom, top = min(low.min(), acc.min()), max(high.max(), acc.max())
    pad = max(0.02, 0.05 * (top - bottom))
    ax.set_ylim(max(0.0, bottom - pad), min(1.0, top + pad) + 0.005)
    _style(ax, grid="both")
    return _finish(fig, ax, owned, title=f"Estimated {metric} after each fit",
                   caption=" ".join(explained), handles=handles,
                   names=[handle.get_label() for handle in handles],
                   axes_height=0.4 * fig.get_figwidth())


def plot_label_counts(counts, *, ax=None, width_px=None):
    """Labels per label name, stacked by where they came from: hand, accepted suggestion, weak.

    Parameters
    ----------
    counts : pandas.DataFrame
        Index: label names (drawn top to bottom in index order). Columns: any of
        :data:`SOURCES` (``"hand"``, ``"suggestion-accepted"``, ``"suggestion-corrected"``,
        ``"weak"``), non-negative counts.
    ax : matplotlib.axes.Axes, optional
        Without it the figure grows with the number of labels.
    width_px : int, optional
        Width of a new figure in pixels (:data:`NOTEBOOK_WIDTH_PX` by default). Ignored with
        ``ax``.

    Returns
    -------
    matplotlib.figure.Figure
        Axes content: one BarContainer per source present, in :data:`SOURCES` order, bar widths
        equal to the counts; the total of each label written at the end of its bar; the caption
        (what each source means) as the axes' last Text.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"hand": [5, 3], "weak": [40, 0]}, index=["bug", "question"])
    >>> fig = plot_label_counts(counts)
    >>> [float(p.get_width()) for p in fig.axes[0].containers[0]]
    [5.0, 3.0]
    """
    message = "No labels yet: label a few records and their counts show here."
    if counts is None or counts.shape[0] == 0 or counts.shape[1] == 0:
        return empty_figure(message, ax=ax, width_px=width_px)
    unknown = [column for column in counts.columns if column not in SOURCES]
    if unknown:
        raise ValueError(f"counts columns must be among {SOURCES}; got unknown {unknown}")
    sources = [source for source in SOURCES if source in counts.columns]
    values = counts[sources].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)) or (values < 0).any():
        raise ValueError("counts must be non-negative whole numbers")
    totals = values.sum(axis=1)
    if totals.sum() == 0:
        return empty_figure(message, ax=ax, width_px=width_px)

    names = [str(name) for name in counts.index]
    fig, ax, owned = _new_axes(ax, width_px)
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for column, source in enumerate(sources):
        ax.barh(y, values[:, column], left=left, height=0.65, color=_SOURCE_COLORS[source],
                edgecolor=_SOURCE_COLORS[source], linewidth=0.4,
                label=f"{source} ({int(values[:, column].sum()):,})")
        left = left + values[:, column]
    for row, total in enumerate(totals):
        ax.annotate(f"{int(total):,}", (total, row), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=_SMALL_PT, color=INK)
    ax.set_yticks(y, names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlim(0, totals.max() * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("labeled records")
    ax.tick_params(axis="y", length=0)
    _style(ax, grid="x", spines=("left", "bottom"))
    handles, legend_names = ax.get_legend_handles_labels()
    meanings = "; ".join(f"{source} = {_SOURCE_MEANING[source]}" for source in sources)
    caption = ("Each bar: the labeled records of one label, split by where the label came from "
               "(records per source in brackets); the number at its end is the label's total. "
               f"Sources: {meanings}.")
    return _finish(fig, ax, owned, title=f"Labels by source ({int(totals.sum()):,} in all)",
                   caption=caption, handles=handles, names=legend_names,
                   axes_height=min(6.0, 0.32 * len(names) + 0.25))
