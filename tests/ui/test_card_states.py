"""The card's states in a real JupyterLab and Notebook 7: a card whose kernel restarted, a wide table
row, weak and strong suggestions, a narrow window, what the strategies do, and label buttons that stay
put from a long record to a short one.

Each test writes a notebook into the server's temp root, opens it, runs the cells with Shift+Enter
and looks at the card as a user would. Screenshots go to tests/ui/artifacts/ and, with
``ACTIVELABEL_UPDATE_SCREENSHOTS=1``, to docs/screenshots/.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from test_card_in_jupyter import (
    CARD,
    CARD_TIMEOUT_MS,
    FRONTENDS,
    KERNEL_TIMEOUT_MS,
    TEXT_SETUP,
    UI_TIMEOUT_MS,
    _CONTRAST_JS,
    _contrast_rgb,
    assert_no_card_errors,
    assert_readable,
    cell_output,
    focus_card,
    label_first_two,
    open_notebook,
    run_cell,
    screenshot,
    show_card,
    store_events,
    wait_card,
    write_notebook,
)
from test_hostile_records import card_in_cell, show_card_in_cell

pytestmark = pytest.mark.browser

DARK = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}


# -- helpers -----------------------------------------------------------------------------------


def restart_kernel(page) -> None:
    """Restart the kernel as a user does: Kernel menu, Restart Kernel…, accept the dialog."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
    page.locator('.lm-Menu-item[data-command="kernelmenu:restart"]').click()
    page.locator(".jp-Dialog .jp-mod-accept").click()


def card_state(page, card=CARD) -> dict:
    """What the card shows: its row, progress, whether it is dead, and its enabled controls."""
    return page.evaluate(
        """sel => { const c = document.querySelector(sel);
             const text = s => ((c.querySelector(s) || {}).textContent || '').trim();
             return { key: text('.al-key'), progress: text('.al-progress'), record: text('.al-body'),
                      dead: c.classList.contains('al-card-dead'),
                      banner: c.querySelector('.al-dead').hidden ? '' : text('.al-dead'),
                      enabled: Array.from(c.querySelectorAll('button, select')).filter(b => !b.disabled).length }; }""",
        card,
    )


def assert_card_readable(page, artifacts, selector: str, name: str, minimum: float = 4.5) -> None:
    """assert_readable for one card picked by ``selector`` (several cards are on the page)."""
    rows = []
    for item in page.evaluate(_CONTRAST_JS, selector):
        rows.append((_contrast_rgb(item["fg"], item["bg"]), item["cls"], item["text"]))
    rows.sort()
    (artifacts / f"{name}.contrast.txt").write_text("".join(f"{r[0]:5.2f}  {r[1]!s:30} {r[2]!r}\n" for r in rows))
    assert rows, "no text found in the card"
    low = [r for r in rows if r[0] < minimum]
    assert not low, low


def percent(share: float) -> int:
    """A share as the card rounds it (JavaScript's Math.round: halves up; Python's round goes to even)."""
    return math.floor(share * 100 + 0.5)


def mark_card(page, index: int, name: str) -> str:
    """Give the card in cell ``index`` a data attribute so page scripts can find it; return its selector."""
    card_in_cell(page, index).evaluate("(c, name) => c.setAttribute('data-test-card', name)", name)
    return f'.al-card[data-test-card="{name}"]'


# -- (a) the kernel restarts under the card ---------------------------------------------------

AFTER_RESTART = 'print("AFTER_RESTART=" + str(6 * 7))'

#: Keys that reach the document after the card had its chance (the bubble phase).
_RECORD_KEYS_JS = """() => { window.__keysSeen = [];
  document.addEventListener('keydown', e => window.__keysSeen.push({ key: e.key, prevented: e.defaultPrevented })); }"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_card_says_its_kernel_is_gone_after_a_restart(frontend, start_jupyter, page, artifacts, publish_screenshot):
    """Label once, restart the kernel from the Kernel menu: the card shows the dead banner, is dimmed,
    every control is disabled, and a key on it changes nothing (no label, no uncaught error) and
    goes on to the notebook instead of being taken by the card."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "restart.ipynb", [TEXT_SETUP, AFTER_RESTART])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    first = wait_card(page, progress=["0 / 20 labeled"])
    page.keyboard.press("1")
    second = wait_card(page, key_not=first, progress=["1 / 20 labeled"])
    assert card_state(page)["banner"] == ""
    assert len(store_events(server.root / "labels.db")) == 1

    restart_kernel(page)
    banner = page.locator(f"{CARD} .al-dead")
    banner.wait_for(state="visible", timeout=KERNEL_TIMEOUT_MS)
    server.wait_for_kernel(timeout=KERNEL_TIMEOUT_MS / 1000)
    before = card_state(page)
    assert before["dead"] and before["enabled"] == 0, before
    assert "kernel is gone" in before["banner"] and "re-run the cell" in before["banner"].lower(), before
    assert before["key"] == f"row {second}" and "1 / 20 labeled" in before["progress"], before

    # a key on the dead card: the card takes nothing, sends nothing, throws nothing
    page.evaluate(_RECORD_KEYS_JS)
    page.locator(f"{CARD} .al-body").click()
    page.keyboard.press("s")
    # a later cell runs on the new kernel: by then any intent the key sent would have gone out
    run_cell(page, 1)
    assert cell_output(page, 1, "AFTER_RESTART=") == "42"
    after = card_state(page)
    assert after == before, (before, after)
    seen = page.evaluate("window.__keysSeen")
    assert {"key": "s", "prevented": False} in seen, seen  # passed through to the notebook
    assert len(store_events(server.root / "labels.db")) == 1
    sends = [e for e in page.console_errors if "Cannot send" in e or "closed comm" in e]
    assert not sends, sends

    card_shot, _ = screenshot(page, artifacts, f"{frontend}-dead-after-restart")
    if frontend == "lab":
        publish_screenshot(card_shot, "card-dead-after-restart.png")
    assert_readable(page, artifacts, f"{frontend}-dead-after-restart")


# -- (b) a 30-column table row ----------------------------------------------------------------

WIDE_COLUMNS = [f"sensor_{i:02d}_reading" for i in range(1, 31)]
WIDE_SETUP = f'''\
import numpy as np
import pandas as pd
from activelabel_widget import ActiveLabeler

rng = np.random.default_rng(0)
df = pd.DataFrame(rng.normal(size=(40, 30)).round(3), columns={WIDE_COLUMNS!r})
al = ActiveLabeler(df, labels=["normal", "anomaly"], store="wide.db")
al'''

_FIELDS_JS = """sel => {
  const box = document.querySelector(sel + ' .al-body .al-table-wrap');
  const b = box.getBoundingClientRect();
  const top = b.top + box.clientTop, bottom = top + box.clientHeight;
  const rows = Array.from(box.querySelectorAll('tr')).map(tr => {
    const r = tr.getBoundingClientRect();
    return { name: tr.querySelector('th').textContent, inView: r.top >= top - 1 && r.bottom <= bottom + 1 };
  });
  const more = box.parentElement.querySelector('.al-fields-more');
  const toggle = box.parentElement.querySelector('.al-fields-toggle');
  return { count: box.parentElement.querySelector('.al-fields-count').textContent,
           more: more.hidden ? '' : more.textContent, toggle: toggle.hidden ? '' : toggle.textContent,
           clipped: box.scrollHeight > box.clientHeight + 1, wide: box.scrollWidth > box.clientWidth + 1,
           scrollbar: box.offsetWidth - box.clientWidth - box.clientLeft * 2,
           cue: !box.parentElement.querySelector('.al-scroll-cue').hidden, rows };
}"""


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_every_field_of_a_30_column_row_is_reachable(frontend, start_jupyter, page, artifacts, publish_screenshot):
    """A 30-column table row: the fields box says "30 fields" and how many rows are out of view,
    shows a scrollbar, scrolls to the last column, and "show all" shows every row at once."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "wide.ipynb", [WIDE_SETUP])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 40 labeled"])
    page.wait_for_function(
        "sel => { const m = document.querySelector(sel + ' .al-body .al-fields-more'); return m && !m.hidden; }",
        arg=CARD, timeout=UI_TIMEOUT_MS,
    )
    fields = page.evaluate(_FIELDS_JS, CARD)
    names = [r["name"] for r in fields["rows"]]
    assert names == WIDE_COLUMNS
    hidden = [r["name"] for r in fields["rows"] if not r["inView"]]
    assert fields["count"] == "30 fields"
    assert fields["clipped"] and not fields["wide"], fields
    # headless Chromium hides scrollbars (as overlay scrollbars do until scrolled): the card draws one
    assert fields["scrollbar"] > 0 or fields["cue"], "the clipped box shows no scrollbar"
    assert fields["more"] == f"scroll for {len(hidden)} more", (fields["more"], hidden)
    assert hidden[-1] == WIDE_COLUMNS[-1]
    assert fields["toggle"] == "show all"
    card_shot, _ = screenshot(page, artifacts, f"{frontend}-wide-table")
    if frontend == "lab":
        publish_screenshot(card_shot, "card-wide-table.png")
    assert_readable(page, artifacts, f"{frontend}-wide-table")

    # scroll the box to its end: the last column is in view and nothing is left below
    page.locator(f"{CARD} .al-body .al-table-wrap").evaluate("box => { box.scrollTop = box.scrollHeight; }")
    page.wait_for_function(
        "sel => document.querySelector(sel + ' .al-body .al-fields-more').hidden", arg=CARD, timeout=UI_TIMEOUT_MS,
    )
    fields = page.evaluate(_FIELDS_JS, CARD)
    last = fields["rows"][-1]
    assert last["name"] == "sensor_30_reading" and last["inView"], fields["rows"][-3:]
    screenshot(page, artifacts, f"{frontend}-wide-table-scrolled")

    # show all: every row at once, no scrolling needed
    page.locator(f"{CARD} .al-body .al-fields-toggle").click()
    page.wait_for_selector(f"{CARD} .al-body .al-fieldbox.al-fields-open")
    fields = page.evaluate(_FIELDS_JS, CARD)
    assert not fields["clipped"] and fields["toggle"] == "show fewer", fields
    assert all(r["inView"] for r in fields["rows"])
    screenshot(page, artifacts, f"{frontend}-wide-table-all")
    assert_no_card_errors(page)


# -- (c) weak and strong suggestions ----------------------------------------------------------

#: Two labelers side by side: one on two clusters far apart (a confident model), one on noise
#: with alternating labels (a model that cannot tell the labels apart: about 0.5 / 0.5).
STRONG_CELL = '''\
import json
import numpy as np
import pandas as pd
from activelabel_widget import ActiveLabeler

rng = np.random.default_rng(1)
n = 60
side = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
clusters = pd.DataFrame({"x": side * 5 + rng.normal(0, 0.3, n), "y": rng.normal(0, 1, n)})
truth = pd.Series(np.where(side > 0, "right", "left"), index=clusters.index)
strong = ActiveLabeler(clusters, labels=["left", "right"], store="clusters.db")
for _ in range(20):
    strong.session.label(strong.session.current, truth[strong.session.current])
strong.session.wait_idle(300)
print("STRONG=" + json.dumps(strong.widget.suggestion))
strong'''

WEAK_CELL = '''\
noise = pd.DataFrame({"x": rng.normal(0, 1, n), "y": rng.normal(0, 1, n)})
weak = ActiveLabeler(noise, labels=["left", "right"], store="noise.db")
# the same 20 rows whatever the timing: labeling the records served, the picks depend on which fit had
# ended, and a busy machine once gave a feedback loop that the model learnt (confidence 0.42)
weak.session.label_many(list(range(20)), ["left" if i % 2 == 0 else "right" for i in range(20)], source="hand")
weak.session.retrain(wait=True)
weak.session.wait_idle(300)
print("WEAK=" + json.dumps(weak.widget.suggestion))
weak'''

_SUGGESTION_JS = """sel => {
  const c = document.querySelector(sel);
  const slot = c.querySelector('.al-suggestion');
  const button = c.querySelector('.al-label.al-suggested');
  const style = button ? getComputedStyle(button) : null;
  return { text: slot.textContent, weakSlot: slot.classList.contains('al-suggestion-weak'),
           tag: !!slot.querySelector('.al-tag-weak'),
           weakButton: !!button && button.classList.contains('al-suggested-weak'),
           borderStyle: style && style.borderTopStyle, shadow: style && style.boxShadow };
}"""


@pytest.mark.parametrize("frontend, theme", [("lab", "light"), ("notebook", "light"), ("lab", "dark")])
def test_weak_suggestion_looks_weaker_than_a_strong_one(frontend, theme, start_jupyter, page, artifacts,
                                                         publish_screenshot):
    """A confident model's suggestion keeps the solid highlight and shows the model's accuracy; a
    model that cannot tell the labels apart gives a weak suggestion: a "weak" tag, muted and dashed.
    Every text on both cards stays readable (light and dark theme)."""
    server = start_jupyter(frontend, settings=DARK if theme == "dark" else None)
    nb = write_notebook(server.root, "suggestions.ipynb", [STRONG_CELL, WEAK_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    strong = json.loads(cell_output(page, 0, "STRONG="))
    show_card_in_cell(page, 0)
    run_cell(page, 1)
    weak = json.loads(cell_output(page, 1, "WEAK="))
    show_card_in_cell(page, 1)
    assert "weak" in strong and "weak" in weak, f"the kernel sends no `weak` in suggestion yet: {strong} / {weak}"
    assert strong["weak"] is False, strong
    assert weak["weak"] is True, weak

    strong_card, weak_card = mark_card(page, 0, "strong"), mark_card(page, 1, "weak")
    for selector in (strong_card, weak_card):
        page.wait_for_function(
            "sel => document.querySelector(sel + ' .al-suggested-label')", arg=selector, timeout=KERNEL_TIMEOUT_MS,
        )
    shown_strong = page.evaluate(_SUGGESTION_JS, strong_card)
    shown_weak = page.evaluate(_SUGGESTION_JS, weak_card)

    assert not shown_strong["weakSlot"] and not shown_strong["tag"] and not shown_strong["weakButton"], shown_strong
    assert shown_strong["borderStyle"] == "solid" and shown_strong["shadow"] != "none", shown_strong
    if strong.get("accuracy") is not None:
        assert f"model {percent(strong['accuracy'])}% accurate" in shown_strong["text"], shown_strong
    assert shown_weak["weakSlot"] and shown_weak["tag"] and shown_weak["weakButton"], shown_weak
    assert shown_weak["borderStyle"] == "dashed" and shown_weak["shadow"] == "none", shown_weak
    assert re.search(r"weak · confidence \d\.\d\d", shown_weak["text"]), shown_weak
    if weak.get("accuracy") is not None:
        assert f"model {percent(weak['accuracy'])}% accurate" in shown_weak["text"], shown_weak

    name = f"{frontend}-{theme}"
    for label, selector in (("strong", strong_card), ("weak", weak_card)):
        card = page.locator(selector)
        card.scroll_into_view_if_needed()
        page.mouse.move(0, 0)
        path = artifacts / f"{name}-suggestion-{label}-card.png"
        card.screenshot(path=str(path), animations="disabled")
        if frontend == "lab":
            publish_screenshot(path, f"suggestion-{label}-{theme}.png")
        assert_card_readable(page, artifacts, selector, f"{name}-suggestion-{label}")
    card_errors = [e for e in page.console_errors if "activelabel" in e or "al-card" in e]
    assert not card_errors, card_errors
    banners = page.locator(f"{CARD} .al-error").evaluate_all("bs => bs.filter(b => !b.hidden).map(b => b.textContent)")
    assert not banners, banners


# -- (d) the header in a narrow notebook ------------------------------------------------------

_OVERFLOW_JS = """sel => {
  const card = document.querySelector(sel);
  const c = card.getBoundingClientRect();
  const out = [];
  for (const n of [card, ...card.querySelectorAll('.al-header, .al-header *')]) {
    if (!n.getClientRects().length) continue;
    const r = n.getBoundingClientRect();
    if (n.clientWidth > 0 && n.scrollWidth > n.clientWidth + 1) out.push(['scrolls', n.className || n.tagName, n.scrollWidth, n.clientWidth]);
    if (r.right > c.right + 0.5 || r.left < c.left - 0.5) out.push(['sticks out', n.className || n.tagName, r.left, r.right, c.left, c.right]);
  }
  const output = card.closest('.jp-OutputArea-output').getBoundingClientRect();
  if (c.right > output.right + 0.5) out.push(['card wider than its output', c.right, output.right]);
  const panel = card.closest('.jp-NotebookPanel') || card.closest('.jp-Notebook');
  return { overflow: out, card: c.width, panel: panel.getBoundingClientRect().width, rows:
           Array.from(card.querySelectorAll('.al-header-row')).map(r => r.getBoundingClientRect().height) };
}"""


@pytest.mark.parametrize("frontend, width", [("lab", "window-500"), ("lab", "panel-500"), ("notebook", "window-500")])
def test_header_wraps_in_a_narrow_notebook(frontend, width, start_jupyter, page, artifacts, publish_screenshot):
    """In a 500 px window (JupyterLab keeps its file browser open: the notebook gets what is left)
    and in a 500 px notebook panel next to the open file browser, the header wraps: nothing in it
    scrolls sideways or sticks out of the card, and the card stays inside its output area."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "narrow.ipynb", [TEXT_SETUP])
    open_notebook(page, server, nb)  # wide first: at 500 px the kernel indicator hides in a menu
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 20 labeled"])
    if width == "window-500":
        page.set_viewport_size({"width": 500, "height": 900})
    else:
        assert page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").count() == 1, "no sidebar open"
        panel = page.evaluate("() => document.querySelector('.jp-NotebookPanel').getBoundingClientRect().width")
        page.set_viewport_size({"width": int(1280 - (panel - 500)), "height": 900})
    target = 500 if width == "panel-500" else None
    page.wait_for_function(
        """([sel, target]) => { const p = document.querySelector('.jp-NotebookPanel') || document.querySelector('.jp-Notebook');
             const w = p.getBoundingClientRect().width;
             return target === null ? window.innerWidth === 500 : Math.abs(w - target) < 2; }""",
        arg=[CARD, target], timeout=UI_TIMEOUT_MS,
    )
    page.wait_for_timeout(500)  # the notebook lays its cells out again after the resize
    layout = page.evaluate(_OVERFLOW_JS, CARD)
    name = f"{frontend}-{width}"
    card_shot, page_shot = screenshot(page, artifacts, f"{name}-header")
    assert not layout["overflow"], layout
    if width == "panel-500":
        publish_screenshot(page_shot, "card-narrow-notebook.png")
    assert_readable(page, artifacts, f"{name}-header")
    assert_no_card_errors(page)


# -- what the strategies do -------------------------------------------------------------------


def test_strategies_say_what_they_do(start_jupyter, page, artifacts, publish_screenshot):
    """Each option of the strategy select has a tooltip from the kernel's strategy_help, and the key
    map (?) lists what each strategy does under the keys."""
    page.set_viewport_size({"width": 1280, "height": 1400})  # the open key map and the card fit in the window
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "strategies.ipynb", [TEXT_SETUP])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 20 labeled"])
    options = page.locator(f"{CARD} select[aria-label='query strategy'] option").evaluate_all(
        "os => os.map(o => [o.value, o.getAttribute('title') || ''])"
    )
    assert options, "no strategies in the select"
    untitled = [name for name, title in options if not title]
    assert not untitled, f"options without a tooltip (does the kernel send strategy_help yet?): {untitled}"

    page.keyboard.press("?")
    section = page.locator(f"{CARD} .al-keymap .al-keymap-strategies")
    section.wait_for(state="visible", timeout=CARD_TIMEOUT_MS)
    listed = section.locator(".al-strategy-name").all_inner_texts()
    assert listed == [name for name, _ in options], listed
    texts = section.locator("dd").all_inner_texts()
    assert texts == [title for _, title in options], texts
    card_shot, _ = screenshot(page, artifacts, "lab-keymap-strategies")
    publish_screenshot(card_shot, "keymap-strategies.png")
    assert_readable(page, artifacts, "lab-keymap-strategies")
    assert_no_card_errors(page)


# -- (e) a restart resumes where the user stopped ------------------------------------------------


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_a_restart_resumes_on_the_record_that_was_on_the_card(frontend, start_jupyter, page, artifacts):
    """Label two records, restart the kernel, run the cell again: the card shows the record that
    was on it before the restart ("where you stopped"), not the seeded first pick."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "resume.ipynb", [TEXT_SETUP])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    first, _, on_card = label_first_two(page, 20)
    page.wait_for_timeout(2500)  # the store notes the card when it folds its log in, a second after the last label

    restart_kernel(page)
    page.locator(f"{CARD} .al-dead").wait_for(state="visible", timeout=KERNEL_TIMEOUT_MS)
    server.wait_for_kernel(timeout=KERNEL_TIMEOUT_MS / 1000)
    run_cell(page, 0)
    page.wait_for_function(
        "sel => { const c = document.querySelector(sel); return c && !c.classList.contains('al-card-dead') "
        "&& c.querySelector('.al-label'); }", arg=CARD, timeout=KERNEL_TIMEOUT_MS,
    )
    show_card(page)
    resumed = wait_card(page, progress=["2 / 20 labeled"])
    assert resumed == on_card and on_card != first
    reason = page.locator(f"{CARD} .al-reason").inner_text()
    assert "where you stopped" in reason, reason
    screenshot(page, artifacts, f"{frontend}-resumed-after-restart")
    assert_no_card_errors(page)


# -- (f) the status line during a slow first round says what the session is doing -----------------

#: A pool that takes seconds to prepare and a model that takes seconds to fit, as on a big data set,
#: and a record of every status the session announces (the card can only show what it was told).
SLOW_SETUP = '''\
import time
import activelabel_widget.rounds as rounds
from activelabel_widget.session import LabelingSession
from sklearn.linear_model import LogisticRegression

class SlowModel(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        time.sleep(2.5)
        return super().fit(X, y, sample_weight)

_embeddings = rounds.compute_embeddings
def slow_embeddings(*args, **kwargs):
    time.sleep(12)
    return _embeddings(*args, **kwargs)
rounds.compute_embeddings = slow_embeddings

announced = []
_notify = LabelingSession._notify
def recording_notify(self):
    announced.append(dict(self.model_status.as_dict()))
    _notify(self)
LabelingSession._notify = recording_notify
''' + TEXT_SETUP.replace('store="labels.db")', 'store="labels.db", model=SlowModel(max_iter=200))')

PROBE_CELL = '''\
import json
probe = globals().get("probe", 0) + 1
print(f"STATUS{probe}=" + json.dumps({"now": al.session.model_status.as_dict(), "announced": announced,
      "fits": [f.n_labels for f in al.session.fit_history], "labeled": len(al.labeled)}))'''

#: Every text the status line shows, in order (a MutationObserver sees each change).
_WATCH_STATUS_JS = """sel => { const t = document.querySelector(sel + ' .al-status-text');
  window.__statusTexts = [t.textContent];
  new MutationObserver(() => window.__statusTexts.push(t.textContent))
    .observe(t, { childList: true, characterData: true, subtree: true }); }"""


def status_text(status: dict) -> str:
    """What the card's status line says for a session status (as js/card.js modelStatusText does)."""
    state, message = status["state"], (status.get("message") or "").strip()
    on = "" if status.get("n_labels") is None else f" on {status['n_labels']:,} labels"
    if state == "preparing":
        return f"model: preparing… · {message}"
    if state == "training":
        return f"model: {message}" if re.match(r"(re)?training\b", message) else f"model: training… · {message}"
    if state == "ready":
        accuracy = status.get("accuracy")
        return f"model: fitted{on}" if accuracy is None else f"model: {percent(accuracy)}% CV accuracy{on}"
    if state == "error":
        return f"model error: {message}"
    return f"model: none yet · {message}" if message else "model: none yet"


def probe(page, number: int) -> dict:
    """Run the probe cell: the session's status now and every status it announced; focus back on the card."""
    run_cell(page, 1)
    report = json.loads(cell_output(page, 1, f"STATUS{number}="))
    focus_card(page)
    return report


def status_on_card(page) -> str:
    return page.locator(f"{CARD} .al-status-text").inner_text().strip()


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_the_status_line_tells_what_the_session_is_doing_in_a_slow_first_round(frontend, start_jupyter, page,
                                                                                 artifacts):
    """A pool that takes 12 s to prepare and a model that takes 2.5 s per fit: while the pool is
    prepared the card says so with its share done (and records come in random order); while the
    first fit runs it says "training on 4 labels… N% done"; labels given meanwhile do not change
    the count the fit used. Every text the card showed is one the session announced, in order."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "slow-round.ipynb", [SLOW_SETUP, PROBE_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    page.evaluate(_WATCH_STATUS_JS, CARD)

    # 1. preparing: the kernel is computing embeddings; the card says so, with its share done
    now = probe(page, 1)["now"]
    assert now["state"] == "preparing" and "computing embeddings for 20 rows" in now["message"], now
    assert status_on_card(page) == status_text(now)
    assert page.locator(f"{CARD} .al-status-bar").get_attribute("aria-valuenow") == str(percent(now["progress"]))
    assert "random order while the embedding index is built" in page.locator(f"{CARD} .al-reason").inner_text()
    screenshot(page, artifacts, f"{frontend}-status-preparing")
    page.wait_for_function(  # once the index is built, the record picked before says so
        "sel => document.querySelector(sel + ' .al-reason').textContent.includes('picked while the embedding index')",
        arg=CARD, timeout=KERNEL_TIMEOUT_MS)

    # 2. four labels, two each of two labels: the first fit starts once the pool is ready
    first = wait_card(page, progress=["0 / 20 labeled"])
    for number, key in enumerate("1212", start=1):
        page.keyboard.press(key)
        first = wait_card(page, key_not=first, progress=[f"{number} / 20 labeled"])
    page.wait_for_function(
        "sel => document.querySelector(sel + ' .al-status-text').textContent.includes('training on 4 labels')",
        arg=CARD, timeout=KERNEL_TIMEOUT_MS)
    report = probe(page, 2)
    now, on_card = report["now"], status_on_card(page)
    assert now["state"] == "training" and now["message"].startswith("training on 4 labels…"), now
    assert "% done" in on_card and on_card in [status_text(s) for s in report["announced"]], on_card
    screenshot(page, artifacts, f"{frontend}-status-training")

    # 3. two more labels while the fit runs: the fit used 4, the card says 4, the progress says 6
    page.keyboard.press("1")
    first = wait_card(page, key_not=first, progress=["5 / 20 labeled"])
    page.keyboard.press("2")
    first = wait_card(page, key_not=first, progress=["6 / 20 labeled"])
    page.wait_for_function(
        "sel => /CV accuracy on|fitted on/.test(document.querySelector(sel + ' .al-status-text').textContent)",
        arg=CARD, timeout=KERNEL_TIMEOUT_MS)
    report = probe(page, 3)
    now = report["now"]
    assert now["state"] == "ready" and now["n_labels"] == 4 and report["fits"] == [4] and report["labeled"] == 6
    assert status_on_card(page) == status_text(now) and "on 4 labels" in status_on_card(page)
    screenshot(page, artifacts, f"{frontend}-status-after-first-fit")

    # 4. never a word the session did not say: the card's texts are the session's, in its order
    announced = [status_text(s) for s in report["announced"]]
    shown = page.evaluate("() => window.__statusTexts")
    shown = [text for i, text in enumerate(shown) if i == 0 or text != shown[i - 1]]
    at = 0
    for text in shown:
        assert text in announced[at:], (text, shown, announced)
        at = announced.index(text, at)
    first_fit = next(i for i, text in enumerate(shown) if "training on" in text)
    asks_for_labels = [i for i, text in enumerate(shown) if "label two examples" in text]
    assert all(shown[i].startswith("model: none yet") and i < first_fit for i in asks_for_labels), shown

    # 5. the model has never seen "question": the records it ranks look for that label, and say so
    looking = "looking for a label the model has not learnt yet (hybrid)"
    labeled = 6
    for _ in range(4):  # the record on screen was picked before the fit; the line's next ones after it
        if looking in page.locator(f"{CARD} .al-reason").inner_text():
            break
        page.keyboard.press("1")
        labeled += 1
        first = wait_card(page, key_not=first, progress=[f"{labeled} / 20 labeled"])
    assert looking in page.locator(f"{CARD} .al-reason").inner_text()
    screenshot(page, artifacts, f"{frontend}-looking-for-a-label-not-learnt")
    assert_no_card_errors(page)


# -- (g) reopened with labels: the model suggests while the embedding index is still being built ---

#: A store that already holds four labels, and embeddings that take 15 s, as on a big data set.
REOPEN_SETUP = '''\
import time
import activelabel_widget.rounds as rounds
from activelabel_widget.session import LabelingSession
''' + TEXT_SETUP.replace("al = ActiveLabeler(", '''first = LabelingSession(df, text="body", labels=["bug", "feature", "question"], store="labels.db",
                         background=False)
first.label_many([0, 2, 1, 4], ["bug", "bug", "feature", "feature"], source="hand")  # positions
first.close()
_embeddings = rounds.compute_embeddings
def slow_embeddings(*args, **kwargs):
    time.sleep(15)
    return _embeddings(*args, **kwargs)
rounds.compute_embeddings = slow_embeddings
al = ActiveLabeler(''')


@pytest.mark.parametrize("frontend", ["lab"])
def test_reopened_with_labels_the_card_suggests_while_the_embedding_index_is_built(frontend, start_jupyter, page,
                                                                                   artifacts):
    """The first fit uses the features alone: the card shows a suggestion and says the index is
    still being built (with its share done) and that the model picks by uncertainty meanwhile."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "reopen.ipynb", [REOPEN_SETUP])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    page.wait_for_function(
        "sel => document.querySelector(sel + ' .al-status-text').textContent.includes('picking by uncertainty')",
        arg=CARD, timeout=KERNEL_TIMEOUT_MS)
    status = status_on_card(page)
    assert "computing embeddings for 20 rows" in status and "the model on 4 labels suggests meanwhile" in status
    assert page.locator(f"{CARD} .al-status-bar").get_attribute("aria-valuenow") == "33"
    focus_card(page)
    page.keyboard.press("s")  # past the record where labeling stopped, to a record the model ranked
    page.wait_for_function(
        "sel => /confidence/.test(document.querySelector(sel + ' .al-reason').textContent)",
        arg=CARD, timeout=KERNEL_TIMEOUT_MS)
    suggestion = page.locator(f"{CARD} .al-suggestion").inner_text()
    assert re.search(r"(bug|feature)", suggestion), suggestion
    screenshot(page, artifacts, f"{frontend}-status-index-after-fit")
    page.wait_for_function(  # the index is built: the status says what the model scored, nothing pending
        "sel => /CV accuracy on 4 labels/.test(document.querySelector(sel + ' .al-status-text').textContent)",
        arg=CARD, timeout=KERNEL_TIMEOUT_MS)
    assert_no_card_errors(page)


# -- a label nobody has given yet ----------------------------------------------------------------

HEURISTIC_CELL = '''\
from activelabel_widget import keywords
al.add_heuristic(keywords(label="question", column="body", words=["how", "where", "does", "is there"]))'''


def test_the_card_says_it_looks_for_a_label_nobody_has_given_yet(start_jupyter, page, artifacts):
    """A labeling function votes 'question' before anyone has labeled one: the next records are its
    votes, and the card says why, in words a labeler understands."""
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "missing_label.ipynb", [TEXT_SETUP, HEURISTIC_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    first = wait_card(page, progress=["0 / 20 labeled"])
    run_cell(page, 1)
    focus_card(page)
    page.keyboard.press("1")  # bug: 'question' still has no example
    wait_card(page, key_not=first, progress=["1 / 20 labeled"])
    page.wait_for_function(
        "sel => document.querySelector(sel + ' .al-reason').textContent.includes('which has no label yet')",
        arg=CARD, timeout=UI_TIMEOUT_MS,
    )
    reason = page.locator(f"{CARD} .al-reason").inner_text()
    record = page.locator(f"{CARD} .al-body").inner_text().lower()
    assert "a heuristic votes 'question'" in reason, reason
    assert any(word in record for word in ("how", "where", "does", "is there")), record
    screenshot(page, artifacts, "lab-missing-label-reason")
    assert_readable(page, artifacts, "lab-missing-label-reason")
    assert_no_card_errors(page)


# -- the buttons stay put from one record to the next ----------------------------------------------

HEIGHT_SETUP = '''\
import pandas as pd
from activelabel_widget import ActiveLabeler
texts = {
    "long": " ".join(["A review that runs over several lines of the card, as many do."] * 5),
    "short": "Too short.",
}
texts.update({f"r{i}": f"Another review, number {i}." for i in range(8)})
df = pd.DataFrame({"text": list(texts.values())}, index=list(texts))
al = ActiveLabeler(df, labels=["good", "bad"], text="text", store="height.db")
al'''

_BUTTONS_BELOW_JS = """
card => {
  const top = card.getBoundingClientRect().top;
  return { buttons: card.querySelector('.al-label').getBoundingClientRect().top - top,
           text: card.querySelector('.al-text').getBoundingClientRect().height };
}
"""


def test_the_buttons_stay_put_when_a_shorter_record_follows_a_longer_one(start_jupyter, page, artifacts):
    """The record keeps the tallest height it has had, so the label buttons do not move up under the
    pointer when a short record follows a long one; with the insights panel open the record gives the
    room back (the panel must fit in the window), and five records after the long one it gives it back
    too (one long record must not leave a gap under every record after it)."""
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "height.ipynb", [HEIGHT_SETUP, 'al.session.show("long")', 'al.session.show("short")']
                        + [f'al.session.show("r{i}")' for i in range(4)])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    card = show_card_in_cell(page, 0)

    def shown(row):
        page.wait_for_function("([c, row]) => c.querySelector('.al-key').textContent === 'row ' + row",
                               arg=[card.element_handle(), row], timeout=KERNEL_TIMEOUT_MS)
        page.wait_for_timeout(300)  # the record's size is reported after the frame's layout
        return card.evaluate(_BUTTONS_BELOW_JS)

    run_cell(page, 1)
    long = shown("long")
    run_cell(page, 2)
    short = shown("short")
    assert card.locator(".al-text").inner_text() == "Too short."
    assert short["text"] < long["text"] / 2, (long, short)  # the text itself is short
    assert abs(short["buttons"] - long["buttons"]) <= 1, (long, short)  # the buttons did not move
    screenshot(page, artifacts, "lab-short-after-long")

    card.locator(".al-progress").click()
    page.keyboard.press("i")
    card.locator(".al-insights").wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(300)
    opened = card.evaluate(_BUTTONS_BELOW_JS)
    assert opened["buttons"] < long["buttons"] - 20, (long, opened)  # the held room is given back

    # the panel closed, the long record again: its room is held for the next four records, then given back
    card.locator(".al-progress").click()
    page.keyboard.press("i")
    card.locator(".al-insights").wait_for(state="hidden", timeout=UI_TIMEOUT_MS)
    run_cell(page, 1)
    long = shown("long")
    for cell, row in enumerate(["short", "r0", "r1", "r2"], start=2):  # 4 records after the long one
        run_cell(page, cell)
        held = shown(row)
        assert abs(held["buttons"] - long["buttons"]) <= 1, (row, long, held)
    run_cell(page, 6)
    fifth = shown("r3")
    assert fifth["buttons"] < long["buttons"] - 20, (long, fifth)  # the fifth: the room is given back
    screenshot(page, artifacts, "lab-fifth-short-after-long")
    assert_no_card_errors(page)
