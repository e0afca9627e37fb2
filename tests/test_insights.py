"""The labeler's plots read the session's real state; the card gets PNGs after each fit."""

import io

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from PIL import Image

from activelabel_widget import ActiveLabeler
from activelabel_widget.insights import QUEUED_SHOWN
from activelabel_widget.plots import CARD_WIDTH_PX
from activelabel_widget.strategies import confidence

from conftest import LABELS, ticket_frame, truth_of


@pytest.fixture
def trained(tmp_path):
    al = ActiveLabeler(ticket_frame(90), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    session = al.session
    for _ in range(15):
        session.label(session.current, truth_of(session, session.current))
    yield al
    al.close()


def all_text(fig) -> str:
    texts = fig.texts + [t for ax in fig.axes for t in ax.texts]
    texts += [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center", "right")]
    texts += [t for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    return " ".join(" ".join((t if isinstance(t, str) else t.get_text()).split()) for t in texts)


def png(data: bytes) -> Image.Image:
    assert data[:4] == b"\x89PNG"
    return Image.open(io.BytesIO(data)).convert("RGBA")


def test_before_any_fit_the_plots_say_what_to_do(tmp_path):
    al = ActiveLabeler(ticket_frame(), text="body", labels=LABELS, store=tmp_path / "s.db", background=False)
    assert "No model yet" in all_text(al.plot_confidence())
    assert "No quality estimate yet" in all_text(al.plot_learning_curve())
    al.close()


def test_the_confidence_plot_counts_the_unlabeled_pool_and_marks_the_next_queries(trained):
    session = trained.session
    fig = trained.plot_confidence()
    bar_total = sum(p.get_height() for p in fig.axes[0].patches if p.get_height() > 0 and p.get_width() < 0.06)
    assert bar_total == 90 - 15
    scores = confidence(session.model_proba()[0])
    threshold = scores[session.queued(QUEUED_SHOWN)].max()
    xs = [line.get_xdata()[0] for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert xs and xs[0] == pytest.approx(threshold)


def test_the_coverage_map_puts_labeled_rows_where_the_projection_says(trained):
    session = trained.session
    fig = trained.plot_coverage()
    xy = trained.insights.map_2d()
    labeled = np.flatnonzero(session.hand_codes() >= 0)
    offsets = np.vstack([c.get_offsets() for c in fig.axes[0].collections
                         if isinstance(c, PathCollection) and c.get_label().split(" (")[0] in LABELS])
    np.testing.assert_allclose(np.sort(offsets, axis=0), np.sort(np.asarray(xy[labeled], float), axis=0), atol=1e-5)
    title = fig.axes[0].get_title(loc="left")
    assert title.endswith("of a labeled record") and "% of the records are within" in title
    # 90 records: 1% of the others rounds up to one, so the radius is the median distance to the
    # nearest neighbour, in the embedding space
    words = all_text(fig)
    assert "(the median distance to its nearest neighbour), measured in the embedding space" in words
    assert "are the explored part of the data" in words


def test_learning_curve_and_label_counts_follow_the_fits_and_labels(trained):
    history = [r for r in trained.session.fit_history if r.accuracy is not None]
    curve = trained.plot_learning_curve()
    line = curve.axes[0].lines[0]
    assert list(line.get_xdata()) == [r.n_labels for r in history]
    words = all_text(curve)
    assert "best" not in words.lower()  # no estimate is singled out
    assert "95% interval" in words and "Estimates from fewer than 30 labels vary a lot" in words
    widths = sorted(p.get_width() for p in trained.plot_labels().axes[0].patches)
    assert sum(widths) == 15


def test_the_card_gets_both_plots_as_png_bytes(trained):
    widget = trained.widget
    widget.refresh_insights()
    for data in (widget.confidence_png, widget.coverage_png):
        image = png(data)
        assert image.width == CARD_WIDTH_PX == 520
        assert image.getpixel((0, 0))[3] == 0  # transparent: reads in a light and a dark theme


def test_card_pngs_are_transparent_at_the_width_the_card_asks_for(trained):
    confidence_png, coverage_png = trained.insights.card_pngs()
    for data in (confidence_png, coverage_png):
        image = png(data)
        assert image.width == 520 and 250 < image.height < 700
        alpha = np.asarray(image)[..., 3]
        assert alpha[0, 0] == 0 and (alpha == 0).mean() > 0.3  # see-through, not a white card
    narrow = [png(data) for data in trained.insights.card_pngs(width_px=480)]
    assert [image.width for image in narrow] == [480, 480]


def test_the_card_plots_explain_their_numbers(trained):
    confidence_fig = trained.insights.confidence(width_px=520)
    words = all_text(confidence_fig)
    n_unlabeled = 90 - 15
    assert f"Model confidence on {n_unlabeled} unlabeled records" in words
    assert f"Bars: the {n_unlabeled} unlabeled records in bins of 0.05" in words
    assert "below 0.5 are closer to a guess than to certain" in words
    assert "Outline, right axis: the 15 hand-labeled records" in words
    assert "queued next lie at or left of the dashed line" in words
