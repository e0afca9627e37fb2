"""The labeler's plots read the session's real state; the card gets PNGs after each fit."""

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from activelabel_widget import ActiveLabeler
from activelabel_widget.insights import QUEUED_SHOWN
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
    return " ".join(t.get_text() for t in fig.texts + [t for ax in fig.axes for t in ax.texts])


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
    assert "of the pool is within" in fig.axes[0].get_title()


def test_learning_curve_and_label_counts_follow_the_fits_and_labels(trained):
    history = [r for r in trained.session.fit_history if r.accuracy is not None]
    line = trained.plot_learning_curve().axes[0].lines[0]
    assert list(line.get_xdata()) == [r.n_labels for r in history]
    widths = sorted(p.get_width() for p in trained.plot_labels().axes[0].patches)
    assert sum(widths) == 15


def test_the_card_gets_both_plots_as_png_bytes(trained):
    widget = trained.widget
    widget.refresh_insights()
    assert widget.confidence_png[:4] == b"\x89PNG" and widget.coverage_png[:4] == b"\x89PNG"
