"""The insights panel in a real JupyterLab: what it says before the first fit, the plots after.

``i`` on the card opens the panel. Before any model it says the plots come after the first fit;
a later cell then labels records with their true labels (``al.session.label``), the model fits in
the background, and the confidence and coverage plots arrive in the open panel. The card with
the panel open is saved as ``insights-card.png`` in the artifacts and, with
``ACTIVELABEL_UPDATE_SCREENSHOTS=1``, as docs/screenshots/insights.png.
"""

from __future__ import annotations

import json

import pytest

from test_card_in_jupyter import (
    KERNEL_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    assert_readable,
    cell_output,
    open_notebook,
    run_cell,
    screenshot,
    write_notebook,
)
from test_hostile_records import show_card_in_cell

pytestmark = pytest.mark.browser

N_LABELS = 40

SETUP = '''\
from activelabel_widget import ActiveLabeler
from activelabel_widget.demo_data import MOVIE_REVIEW_LABELS, load_movie_reviews

reviews = load_movie_reviews(with_truth=True).iloc[:1500]
truth = reviews["category"]
al = ActiveLabeler(reviews[["text", "movie"]], text="text", labels=MOVIE_REVIEW_LABELS, store="insights.db")
al'''

LABEL = f'''\
import json
for _ in range({N_LABELS}):
    al.session.label(al.session.current, truth[al.session.current])
al.session.wait_idle(300)  # the fits these labels asked for are done
# a record of typical length on the card: the window check below is about the panel; a long record
# is clipped (tested on its own) and which one the line offers after 40 labels depends on the fits' timing
short = next(key for key, text in reviews["text"].items()
             if len(text) < 150 and al.session.label_of(key) is None and key != al.session.current)
al.session.show(short)
print("LABELED=" + json.dumps(al.session.progress))'''

_PLOTS_LOADED_JS = """
card => {
  const imgs = Array.from(card.querySelectorAll('.al-insights img'));
  return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0);
}
"""

_PLOTS_JS = """
card => {
  const c = card.getBoundingClientRect();
  return Array.from(card.querySelectorAll('.al-insights figure:not([hidden])')).map(f => {
    const img = f.querySelector('img');
    const r = img.getBoundingClientRect();
    return { caption: f.querySelector('figcaption').textContent, alt: img.alt, src: img.src.slice(0, 5),
             naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, width: r.width, height: r.height,
             left: r.left - c.left, right: c.right - r.right, bottom: r.bottom };
  });
}
"""


#: (front end, theme settings, window width, screenshot name): the README's view, and a narrow
#: Notebook 7 window in the dark theme (the plots are transparent and theme-neutral).
VIEWS = [
    ("lab", None, 1280, "insights.png"),
    ("notebook", {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}, 500, "insights-dark-500.png"),
]


@pytest.mark.parametrize("frontend, settings, width, published", VIEWS, ids=["lab-light-1280", "notebook-dark-500"])
def test_insights_panel_before_and_after_the_first_fit(frontend, settings, width, published, start_jupyter, page,
                                                       artifacts, publish_screenshot):
    """i opens the panel: before a fit it says when plots come; after labels and a fit, the plots
    load inside the card one at a time under tabs, never wider than the card, and the record and
    the plot fit in the window together."""
    server = start_jupyter(frontend, settings=settings)
    nb = write_notebook(server.root, "insights.ipynb", [SETUP, LABEL])
    open_notebook(page, server, nb)  # opened wide (the kernel indicator hides in a narrow window), then narrowed
    page.set_viewport_size({"width": width, "height": 900})
    run_cell(page, 0)
    card = show_card_in_cell(page, 0)

    # before any fit: the panel says what will appear, and when (the status may still say the
    # embeddings are being prepared for the 1,500 reviews)
    assert card.locator(".al-status").inner_text().startswith(("model: none yet", "model: preparing…"))
    page.keyboard.press("i")
    panel = card.locator(".al-insights")
    panel.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    assert "plots appear after the first model fit" in panel.inner_text()
    assert panel.locator("img").count() == 0
    assert card.locator("button[aria-pressed='true']", has_text="insights").count() == 1
    screenshot(page, artifacts, "insights-before-fit")

    # labels with their true labels from a later cell; the model fits in the background
    run_cell(page, 1)
    progress = json.loads(cell_output(page, 1, "LABELED="))
    assert progress["labeled"] == N_LABELS
    page.wait_for_function(
        """card => { const s = card.querySelector('.al-status');
                    return s.classList.contains('al-status-ready') && /CV accuracy|fitted/.test(s.textContent); }""",
        arg=card.element_handle(), timeout=KERNEL_TIMEOUT_MS,
    )
    page.wait_for_function(_PLOTS_LOADED_JS, arg=card.element_handle(), timeout=KERNEL_TIMEOUT_MS)
    assert panel.is_visible()  # the panel stayed open while the plots arrived

    tabs = card.locator(".al-plot-tab")
    assert tabs.all_inner_texts() == ["confidence distribution", "embedding coverage"]
    seen = []
    for tab in range(2):
        tabs.nth(tab).click()
        page.wait_for_function(_PLOTS_LOADED_JS, arg=card.element_handle(), timeout=UI_TIMEOUT_MS)
        (plot,) = card.evaluate(_PLOTS_JS)  # one plot at a time
        seen.append(plot)
        assert plot["src"] == "blob:", plot  # drawn from the synced bytes, nothing fetched
        assert plot["naturalWidth"] >= 400 and plot["naturalHeight"] >= 200, plot
        assert plot["left"] >= 0 and plot["right"] >= 0, f"plot sticks out of the card: {plot}"
        # not shrunk past legibility: at least a third of the picture's own pixels across
        assert plot["width"] >= plot["naturalWidth"] / 3, plot
        # the record and the plot in one window: from the record's top to the plot's bottom
        card.locator(".al-body").evaluate("b => b.scrollIntoView({block: 'start'})")
        top = card.locator(".al-body").evaluate("b => b.getBoundingClientRect().top")
        bottom = card.evaluate("c => c.querySelector('.al-insights figure:not([hidden]) img').getBoundingClientRect().bottom")
        assert bottom - top <= page.viewport_size["height"], (top, bottom, plot)
    (artifacts / "insights-plots.json").write_text(json.dumps(seen, indent=1))
    assert [p["caption"] for p in seen] == ["how sure the model is on the unlabeled records, by the label it predicts",
                                            "which regions of the data have a labeled record nearby, and where the next picks lie"]
    tabs.nth(0).click()
    assert_readable(page, artifacts, f"insights-after-fit-{frontend}-{width}")
    page.set_viewport_size({"width": width, "height": 1400})  # the whole card in the picture, under the toolbar
    card_shot, _ = screenshot(page, artifacts, published.removesuffix(".png"))
    page.set_viewport_size({"width": width, "height": 900})
    if frontend == "lab":  # a card taller than a narrow window is cut by Notebook 7's sticky toolbar in its shot
        publish_screenshot(card_shot, published)

    # i again closes it
    card.locator(".al-progress").click()
    page.keyboard.press("i")
    panel.wait_for(state="hidden", timeout=UI_TIMEOUT_MS)
    assert not [e for e in page.console_errors if "activelabel" in e or "al-card" in e], page.console_errors
