"""The page's short line in a real JupyterLab and Notebook 7, against a kernel slower than the keys.

The kernel is made slow on purpose (each answer takes 0.4 s or more to handle), and keys are
pressed without waiting: the card shows the next record at once from the records it holds, the
answers reach the kernel in the order pressed, undo walks back through answers still on their
way, and a kernel restart in the middle of a burst leaves a card that says what may not be saved
and, after the cell is run again, a store and a card that agree.
"""

from __future__ import annotations

import re

import pytest

from test_card_in_jupyter import (
    CARD,
    FRONTENDS,
    KERNEL_TIMEOUT_MS,
    TEXT_SETUP,
    UI_TIMEOUT_MS,
    assert_no_card_errors,
    cell_output,
    current_key,
    label_first_two,
    open_notebook,
    run_cell,
    screenshot,
    show_card,
    store_events,
    wait_card,
    write_notebook,
)
from test_card_states import restart_kernel

pytestmark = pytest.mark.browser

#: The labeler of the other card tests, with a kernel that takes ``delay`` seconds per answer.
SLOW_KERNEL = TEXT_SETUP + '''
import time
_handle = al.widget.handle_intent
def slow_handle(content, delay=DELAY):
    if content.get("seq") is not None or content.get("action") == "answers":  # answers only: the card's other intents (its theme) go at once
        time.sleep(delay)
    _handle(content)
al.widget.handle_intent = slow_handle
al'''

LABELS = ["bug", "feature", "question"]

ANSWERED_CELL = 'print("ANSWERED=" + repr(al.widget.answered))'


def row_on_screen(page) -> str:
    return current_key(page)


#: Notes, for each key that goes down, where it went and the row on screen once the card has taken it
#: (a listener on the window added after the card's own runs after it, even when the card stops the key).
_TRACE_KEYS_JS = """
sel => {
  window.__alKeyTrace = [];
  window.addEventListener('keydown', event => {
    const card = document.querySelector(sel);
    const key = card && card.querySelector('.al-key');
    const store = card && card.querySelector('.al-store');
    window.__alKeyTrace.push({ key: event.key, onCard: !!card && card.contains(event.target),
                               rowAfter: key ? key.textContent : null,
                               cards: document.querySelectorAll('.al-card').length,
                               store: store ? store.textContent : null });
  }, true);
}
"""


def press_and_note(page, keys: str) -> list[str]:
    """Press ``keys`` one after another, as fast as the browser takes them; return the row on screen at each press."""
    page.evaluate(_TRACE_KEYS_JS, CARD)
    rows = []
    for key in keys:
        rows.append(row_on_screen(page))
        page.keyboard.press(key)
    return rows


def key_trace(page) -> str:
    """What each key of the last burst met, for a failure's message."""
    return "; ".join(f"{t['key']} on card: {t['onCard']} (cards in the page: {t['cards']}), then {t['rowAfter']} "
                     f"({t['store']})"
                     for t in page.evaluate("() => window.__alKeyTrace || []"))


def store_line(page) -> str:
    return page.locator(f"{CARD} .al-store").inner_text()


def encoded(row: str) -> str:
    from activelabel_widget._keys import encode_key

    return encode_key(int(row))


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_burst_faster_than_the_kernel_lands_on_the_records_shown_and_undo_walks_back_through_it(
        frontend, start_jupyter, page, artifacts):
    """Ten label keys, two undos and a label, pressed faster than the kernel answers: the card
    moves at each press without waiting, shows the answers on their way (beyond eight unsettled
    the page sends the rest together), and the store ends with exactly the answers given on the
    records that were on screen."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "burst.ipynb", [SLOW_KERNEL.replace("DELAY", "0.4"), ANSWERED_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 20 labeled"])

    burst = "1231231231"
    rows = press_and_note(page, burst)
    # the page moved on ten times while the kernel had at most answered one
    after_burst = row_on_screen(page)
    assert len(set(rows + [after_burst])) == 11, (" ".join(rows + [after_burst]), key_trace(page))
    on_their_way = store_line(page)
    assert re.search(r"· \d+ answers on their way$", on_their_way), on_their_way
    screenshot(page, artifacts, f"{frontend}-burst-in-flight")

    # two undos while those answers are still on their way: the last two records come back in turn
    page.keyboard.press("z")
    assert row_on_screen(page) == rows[9], key_trace(page)
    assert page.locator(f"{CARD} .al-was").inner_text() == "was: bug"
    page.keyboard.press("Backspace")
    assert row_on_screen(page) == rows[8], (key_trace(page), page.locator(CARD).inner_text())
    page.keyboard.press("2")  # relabel the ninth record
    assert row_on_screen(page) == rows[9], key_trace(page)

    page.wait_for_function("sel => document.querySelector(sel + ' .al-store').textContent.endsWith('all saved')",
                           arg=CARD, timeout=KERNEL_TIMEOUT_MS)
    events = store_events(server.root / "labels.db")
    run_cell(page, 1)
    answered = cell_output(page, 1, "ANSWERED=")
    assert "'refused': []" in answered, (answered, events)
    wait_card(page, key_is=rows[9], progress=["9 / 20 labeled"])
    pressed = [(encoded(row), LABELS[int(key) - 1]) for row, key in zip(rows, burst)]
    assert [e[1:] for e in events if e[0] == "label"] == pressed + [(encoded(rows[8]), "feature")]
    assert [e[:2] for e in events if e[0] == "undo"] == [("undo", encoded(rows[9])), ("undo", encoded(rows[8]))]
    screenshot(page, artifacts, f"{frontend}-burst-settled")
    assert_no_card_errors(page)


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_kernel_restart_in_a_burst_says_what_may_not_be_saved_and_the_store_and_card_agree_after(
        frontend, start_jupyter, page, artifacts, publish_screenshot):
    """A kernel that takes 1.5 s per answer is restarted after six fast presses: the dead card
    says how many answers were on their way. The store holds the first answers in the order
    pressed and nothing else; after the cell is run again, the card's progress matches the store."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "restart.ipynb", [SLOW_KERNEL.replace("DELAY", "1.5")])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 20 labeled"])
    keys = "123123"
    rows = press_and_note(page, keys)
    restart_kernel(page)
    banner = page.locator(f"{CARD} .al-dead")
    banner.wait_for(state="visible", timeout=KERNEL_TIMEOUT_MS)
    said = re.search(r"(\d+) answers? (?:was|were) on the way and may not be saved", banner.inner_text())
    assert said, banner.inner_text()
    unconfirmed = int(said.group(1))
    screenshot(page, artifacts, f"{frontend}-restart-mid-burst")
    if frontend == "lab":
        publish_screenshot(artifacts / f"{frontend}-restart-mid-burst-card.png", "card-restart-mid-burst.png")

    # read once the new kernel is up: the old one may still commit the answer it was handling while it stops
    server.wait_for_kernel(timeout=KERNEL_TIMEOUT_MS / 1000)
    saved = [e for e in store_events(server.root / "labels.db") if e[0] == "label"]
    pressed = [(encoded(row), LABELS[int(key) - 1]) for row, key in zip(rows, keys)]
    assert saved == pressed[:len(saved)], (saved, pressed)  # a prefix, in order, nothing else
    assert len(saved) >= len(keys) - unconfirmed  # everything the card did not warn about is there

    run_cell(page, 0)
    page.wait_for_function(
        "sel => { const c = document.querySelector(sel); return c && !c.classList.contains('al-card-dead') "
        "&& c.querySelector('.al-label'); }", arg=CARD, timeout=KERNEL_TIMEOUT_MS,
    )
    show_card(page)
    wait_card(page, progress=[f"{len(saved)} / 20 labeled"])
    on_card = encoded(row_on_screen(page))
    assert on_card not in {key for key, _ in saved}  # the card shows a record the store has no label for
    assert_no_card_errors(page)


def digits_labeler(*, rows: int, store: str, retrain_every: int) -> str:
    """A notebook cell making a labeler of the first ``rows`` 8x8 digit images (labels low and high)."""
    return f'''\
import pandas as pd
from sklearn.datasets import load_digits
from activelabel_widget import ActiveLabeler

digits = load_digits()
df = pd.DataFrame({{"pixels": list(digits.images[:{rows}])}})
al = ActiveLabeler(df, image="pixels", labels=["low", "high"], store="{store}", retrain_every={retrain_every})
al'''


def test_a_card_drawn_after_the_line_was_sent_asks_for_it_and_shows_every_image(start_jupyter, page, artifacts):
    """A record's content travels to the page once: a second view of the labeler, drawn after the
    first card has answered (its line now names records it holds as ``same``), lacks their images.
    It asks for the whole line, and each record it shows next has its image at once."""
    server = start_jupyter("lab")
    setup = digits_labeler(rows=120, store="digits.db", retrain_every=1000)
    nb = write_notebook(server.root, "second_view.ipynb", [setup, "al", 'print("LABELS=" + str(len(al.labeled)))'])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    label_first_two(page, 120)

    run_cell(page, 1)  # the same labeler drawn again: its line names records the new view never got
    view = ".jp-Notebook .jp-Cell:nth-child(2) .al-card"
    page.locator(view).wait_for(state="visible", timeout=KERNEL_TIMEOUT_MS)
    page.locator(f"{view} .al-progress").click()
    image = f"{view} img.al-image"
    loaded = "sel => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }"
    shown = []
    for key in "12121212":
        page.wait_for_function(loaded, arg=image, timeout=UI_TIMEOUT_MS)
        shown.append(page.locator(f"{view} .al-key").inner_text())
        page.keyboard.press(key)
    assert len(set(shown)) == 8, shown
    page.wait_for_function("sel => document.querySelector(sel + ' .al-store').textContent.endsWith('all saved')",
                           arg=view, timeout=KERNEL_TIMEOUT_MS)
    run_cell(page, 2)
    assert cell_output(page, 2, "LABELS=") == "10"
    page.locator(view).screenshot(path=str(artifacts / "lab-second-view-card.png"), animations="disabled")
    assert not [e for e in page.console_errors if "activelabel" in e or "al-card" in e], page.console_errors
    for card in page.locator(CARD).all():
        assert card.locator(".al-error").is_hidden()


#: For each new row on the card: whether its picture was there when the frame that shows it began
#: (a row replaced within the same frame is not counted: that frame never showed it).
_LOG_PICTURES_JS = """
card => {
  window.__alPictures = [];
  let last = null;
  new MutationObserver(() => {
    const key = card.querySelector('.al-key');
    const row = key && key.textContent ? key.textContent : null;
    if (row === null || row === last) return;
    last = row;
    const image = card.querySelector('img.al-image');
    if (!image) return;
    const src = image.src;
    requestAnimationFrame(() => {
      const now = card.querySelector('img.al-image');
      if (last !== row || now !== image || image.src !== src) return;
      window.__alPictures.push({ row, there: image.complete && image.naturalWidth > 0, scheme: src.slice(0, 5) });
    });
  }).observe(card, { childList: true, subtree: true, characterData: true });
}
"""


def test_a_burst_on_image_records_shows_each_picture_in_the_frame_that_first_shows_its_record(start_jupyter, page):
    """Keys pressed without waiting on the kernel, on image records, with a fit after every second
    answer (each one reranks the records after the card): every record's picture is there in the
    frame that first shows it, never an empty box first. A small picture travels as a ``data:``
    URL, which the browser reads as the card draws it."""
    server = start_jupyter("lab")
    setup = digits_labeler(rows=300, store="pictures.db", retrain_every=2)
    nb = write_notebook(server.root, "pictures.ipynb", [setup, 'print("LABELS=" + str(len(al.labeled)))'])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 300 labeled"])
    page.locator(CARD).evaluate(_LOG_PICTURES_JS)
    for key in "1212121212121212":
        wait_card(page)  # at once while the page's line holds a record, as it should at this pace
        page.keyboard.press(key)
        page.wait_for_timeout(40)  # about a labeler's fastest pace, with fits in the background
    page.wait_for_function("sel => document.querySelector(sel + ' .al-store').textContent.endsWith('all saved')",
                           arg=CARD, timeout=KERNEL_TIMEOUT_MS)
    pictures = page.evaluate("window.__alPictures")
    assert len(pictures) >= 12, pictures  # rows replaced within one frame are not counted
    assert all(p["there"] for p in pictures), [p for p in pictures if not p["there"]]
    assert {p["scheme"] for p in pictures} == {"data:"}, pictures
    run_cell(page, 1)
    assert cell_output(page, 1, "LABELS=") == "16"
    assert_no_card_errors(page)
