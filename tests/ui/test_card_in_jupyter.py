"""The labeling card in a real JupyterLab and Notebook 7, driven like a user in headless Chromium.

Each test writes a notebook into the server's temp root, opens it, runs the cells with
Shift+Enter, presses keys on the card and reads the kernel side back from a later cell and from
the SQLite store. Waits watch the card's DOM (the row shown, the progress line); none are timed
asserts.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

#: Generous waits (no timed asserts): a cold kernel imports pandas and scikit-learn first.
UI_TIMEOUT_MS = 60_000
KERNEL_TIMEOUT_MS = 120_000
#: A key press changes the card in well under a second; this only bounds a card that never changes.
CARD_TIMEOUT_MS = 30_000

FRONTENDS = ["lab", "notebook"]
CARD = ".jp-Notebook .al-card"

HOSTILE_KEY = "103"
HOSTILE_TEXT = 'Page shows <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=1</script> in the title'
LONG_KEY = "111"

TEXT_SETUP = f'''\
import pandas as pd
from activelabel_widget import ActiveLabeler

bodies = [
    "App crashes when I upload a CSV with an empty header row",
    "Please add a dark mode to the dashboard",
    "How do I export my labels to Excel?",
    {HOSTILE_TEXT!r},
    "Login button does nothing on Safari 17",
    "Would love keyboard shortcuts for the review screen",
    "Is there a limit on how many projects I can create?",
    "Sync fails silently after the laptop wakes from sleep",
    "Add an option to pin favourite reports",
    "Where can I find the API token?",
    "Charts render blank when the window is narrow",
    "LONG",
    "Can I invite people outside my organisation?",
    "The search box ignores accents (é, ü)",
    "Let me schedule a report to arrive every Monday",
    "Does the free plan include SSO?",
    "Numbers in the CSV export lose their leading zeros",
    "Support for webhooks on label changes",
    "How do I change the language of the interface?",
    "Timezone of the activity log is off by one hour",
]
bodies[11] = "\\n\\n".join(
    f"Paragraph {{i + 1}}: after the update the importer stops at row {{1000 * (i + 1)}} and prints a long "
    "stack trace that ends in a timeout; retrying with a smaller file works, but the nightly job keeps "
    "failing and the dashboard shows stale numbers for the whole team." for i in range(12)
)
df = pd.DataFrame({{"body": bodies}}, index=range(100, 120))
al = ActiveLabeler(df, text="body", labels=["bug", "feature", "question"], store="labels.db")
al'''

REPORT_CELL = '''\
import json
print("LABELED=" + json.dumps({str(k): v for k, v in al.labeled["label"].astype(str).items()}, sort_keys=True))'''


# -- helpers -----------------------------------------------------------------------------------


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, root / name)
    return name


def open_notebook(page, server, name: str) -> None:
    """Open a notebook and wait, as a user does, until its kernel says it is idle."""
    page.goto(server.notebook_url(name))
    page.wait_for_selector(".jp-Notebook .jp-Cell .jp-InputArea-editor", timeout=UI_TIMEOUT_MS)
    server.wait_for_kernel(timeout=KERNEL_TIMEOUT_MS / 1000)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=KERNEL_TIMEOUT_MS)


def run_cell(page, index: int) -> None:
    """Run a cell as a user does: click into it, Escape to command mode, Shift+Enter."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")


def cell_output(page, index: int, marker: str) -> str:
    """Wait for the line starting with ``marker`` in a cell's output and return what follows it."""
    output = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea-output", has_text=marker)
    output.first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    text = output.first.inner_text()
    match = re.search(re.escape(marker) + r"(.*)", text)
    assert match, text
    return match.group(1).strip()


def show_card(page):
    """Wait for the card to render, give the view a second to settle, then click it to focus it."""
    card = page.locator(CARD)
    card.wait_for(state="visible", timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_function(
        "sel => { const c = document.querySelector(sel); return c && c.querySelector('.al-label'); }",
        arg=CARD, timeout=UI_TIMEOUT_MS,
    )
    page.wait_for_timeout(1000)  # the view re-renders once the model syncs
    focus_card(page)
    return card


def open_card(start_jupyter, page, frontend: str, notebook: str, cells: list[str], **server_options):
    """Start the front end, open a notebook of ``cells``, run the first (the card's) and focus the card."""
    server = start_jupyter(frontend, **server_options)
    open_notebook(page, server, write_notebook(server.root, notebook, cells))
    run_cell(page, 0)
    show_card(page)
    return server


def focus_card(page) -> None:
    """Click a neutral spot of the card (its progress line) so keys go to the card."""
    page.locator(f"{CARD} .al-progress").click()
    page.wait_for_function(
        "sel => document.activeElement && document.activeElement.closest(sel) !== null", arg=CARD,
        timeout=UI_TIMEOUT_MS,
    )


_CARD_STATE_JS = """
([sel, keyNot, keyIs, progress]) => {
  const card = document.querySelector(sel);
  if (!card) return false;
  const key = (card.querySelector('.al-key') || {}).textContent || '';
  const text = (card.querySelector('.al-progress') || {}).textContent || '';
  if (key === '') return false;
  if (keyNot !== null && key === 'row ' + keyNot) return false;
  if (keyIs !== null && key !== 'row ' + keyIs) return false;
  if (progress !== null && !progress.every(part => text.includes(part))) return false;
  return true;
}
"""


def wait_card(page, *, key_not=None, key_is=None, progress=None) -> str:
    """Wait until the card shows a row (not ``key_not`` / exactly ``key_is``) and a progress line
    containing every part of ``progress``; return the row's index label."""
    page.wait_for_function(_CARD_STATE_JS, arg=[CARD, key_not, key_is, progress], timeout=CARD_TIMEOUT_MS)
    return current_key(page)


def label_first_two(page, total: int) -> tuple[str, str, str]:
    """Show the card and label its first two records with keys 1 and 2, each once the card shows it;
    return the keys of the two labeled records and of the one on the card after them."""
    show_card(page)
    first = wait_card(page, progress=[f"0 / {total} labeled"])
    page.keyboard.press("1")
    second = wait_card(page, key_not=first, progress=[f"1 / {total} labeled"])
    page.keyboard.press("2")
    return first, second, wait_card(page, key_not=second, progress=[f"2 / {total} labeled"])


def current_key(page) -> str:
    text = page.locator(f"{CARD} .al-key").inner_text().strip()
    assert text.startswith("row "), text
    return text[len("row "):]


def screenshot(page, artifacts: Path, name: str) -> tuple[Path, Path]:
    """Save the card alone and the whole page."""
    card_path, page_path = artifacts / f"{name}-card.png", artifacts / f"{name}-page.png"
    card = page.locator(CARD)
    card.scroll_into_view_if_needed()
    page.mouse.move(0, 0)  # no hover highlight in the picture
    card.screenshot(path=str(card_path), animations="disabled")
    page.screenshot(path=str(page_path), full_page=True, animations="disabled")
    return card_path, page_path


def notebook_cells(page) -> list[tuple[str, str]]:
    """Each cell's type and first line, to see that nothing inserted, cut or converted a cell."""
    return [tuple(x) for x in page.evaluate(
        """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c => [
               ['jp-CodeCell', 'jp-MarkdownCell', 'jp-RawCell'].find(k => c.classList.contains(k)) || '?',
               ((c.querySelector('.cm-line') || {}).textContent || '')])"""
    )]


_CONTRAST_JS = """
sel => {
  const card = document.querySelector(sel);
  // computed colours come as rgb()/rgba() (0-255) or, from color-mix(), as color(srgb r g b / a) (0-1)
  const parse = css => {
    const m = css.match(/[\\d.]+(e-?\\d+)?/g) || [];
    if (m.length < 3) return { r: 0, g: 0, b: 0, a: 0 };
    const k = css.startsWith('color(') ? 255 : 1;
    return { r: m[0] * k, g: m[1] * k, b: m[2] * k, a: m.length > 3 ? +m[3] : 1 };
  };
  const over = (top, bottom) => ({ r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
                                    b: top.b * top.a + bottom.b * (1 - top.a), a: 1 });
  function background(el) {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  }
  const out = [];
  for (const el of card.querySelectorAll('*')) {
    const own = Array.from(el.childNodes).filter(n => n.nodeType === 3 && n.textContent.trim()).map(n => n.textContent.trim()).join(' ');
    if (!own || el.closest('button:disabled, [hidden], select, option') || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') continue;
    const bg = background(el);
    const fg = over(parse(style.color), bg);
    out.push({ cls: el.className || el.tagName.toLowerCase(), text: own.slice(0, 40), fg: [fg.r, fg.g, fg.b], bg: [bg.r, bg.g, bg.b] });
  }
  return out;
}
"""


def assert_readable(page, artifacts: Path, name: str, minimum: float = 4.5) -> None:
    """Every visible text in the card contrasts with its background (WCAG ratio >= ``minimum``,
    4.5 by default: the level for body text); every ratio is written to ``<name>.contrast.txt``."""
    rows = []
    for item in page.evaluate(_CONTRAST_JS, CARD):
        ratio = _contrast_rgb(item["fg"], item["bg"])
        rows.append((ratio, item["cls"], item["text"], item["fg"], item["bg"]))
    rows.sort()
    low = [r for r in rows if r[0] < 4.5]
    (artifacts / f"{name}.contrast.txt").write_text(
        "".join(f"{r[0]:5.2f}  {r[1]!s:30} {r[2]!r} fg={r[3]} bg={r[4]}\n" for r in rows)
    )
    assert rows, "no text found in the card"
    assert not [r for r in rows if r[0] < minimum], low


def screenshot_page(page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}-page.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def store_events(db: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT action, key, label FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


def assert_not_pwned(page) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined", "record text ran as HTML"
    assert page.locator("img[src='x']").count() == 0, "record text became an <img> element"
    assert page.locator(f"{CARD} script").count() == 0, "record text became a <script> element"


def assert_no_card_errors(page) -> None:
    card_errors = [e for e in page.console_errors if "activelabel" in e or "al-card" in e]
    assert not card_errors, card_errors
    banner = page.locator(f"{CARD} .al-error")
    assert banner.is_hidden(), banner.inner_text()


# -- tests -------------------------------------------------------------------------------------


class RecordChecks:
    """Checks run on every record that comes up: hostile text stays text, long text clips."""

    def __init__(self, page, artifacts: Path, prefix: str):
        self.page, self.artifacts, self.prefix = page, artifacts, prefix
        self.seen_long = self.seen_hostile = False

    def __call__(self, key: str) -> None:
        page = self.page
        if key == HOSTILE_KEY and not self.seen_hostile:
            self.seen_hostile = True
            body = page.locator(f"{CARD} .al-text")
            assert body.is_visible()
            assert body.inner_text() == HOSTILE_TEXT  # shown as text, exactly
            assert_not_pwned(page)
            screenshot(page, self.artifacts, f"{self.prefix}-hostile")
        if key == LONG_KEY and not self.seen_long:
            self.seen_long = True
            body = page.locator(f"{CARD} .al-text")
            assert "al-clipped" in (body.get_attribute("class") or "")
            more = page.locator(f"{CARD} .al-more")
            assert more.inner_text().strip() == "show more"
            clipped_height = body.bounding_box()["height"]
            screenshot(page, self.artifacts, f"{self.prefix}-long-clipped")
            more.click()
            page.wait_for_selector(f"{CARD} .al-text.al-expanded")
            assert page.locator(f"{CARD} .al-more").inner_text().strip() == "show less"
            assert body.bounding_box()["height"] > clipped_height
            screenshot(page, self.artifacts, f"{self.prefix}-long-expanded")
            focus_card(page)  # the click went to the button; back to the card for the keys

    @property
    def done(self) -> bool:
        return self.seen_long and self.seen_hostile


@pytest.mark.parametrize(
    "frontend, undo_key",
    [
        ("lab", "z"),
        # Notebook 7 runs its shortcuts in the capture phase on the document, before the card's
        # keys could reach a listener on the card: the card listens on the window, capturing
        ("notebook", "z"),
        ("notebook", "Backspace"),  # the key map's other undo key
    ],
)
def test_keys_label_the_right_rows(frontend, undo_key, start_jupyter, page, artifacts, publish_screenshot):
    """1 labels, s skips, z undoes the skip, 2 labels the record that came back: the kernel and
    the store hold exactly those two labels; hostile record text stays text; long text clips."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "label_tickets.ipynb", [TEXT_SETUP, REPORT_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    name = f"{frontend}-{undo_key}"
    check = RecordChecks(page, artifacts, name)

    first = wait_card(page, progress=["0 / 20 labeled", "0 skipped"])
    screenshot(page, artifacts, f"{name}-first")
    check(first)
    page.keyboard.press("1")
    second = wait_card(page, key_not=first, progress=["1 / 20 labeled", "0 skipped"])
    check(second)
    page.keyboard.press("s")
    third = wait_card(page, key_not=second, progress=["1 / 20 labeled", "1 skipped"])
    assert third not in (first, second)
    check(third)
    page.keyboard.press(undo_key)
    wait_card(page, key_is=second, progress=["1 / 20 labeled", "0 skipped"])
    page.keyboard.press("2")
    after = wait_card(page, key_not=second, progress=["2 / 20 labeled", "0 skipped"])
    assert after not in (first, second)
    screenshot(page, artifacts, f"{name}-after-keys")
    assert_readable(page, artifacts, f"{name}-after-keys")

    # the kernel side, read back the way a user would: a later cell
    run_cell(page, 1)
    labeled = json.loads(cell_output(page, 1, "LABELED="))
    assert labeled == {first: "bug", second: "feature"}

    # the store on disk: one event per key press, in order
    events = store_events(server.root / "labels.db")
    assert [(action, key) for action, key, _ in events] == [
        ("label", f"i:{first}"), ("skip", f"i:{second}"), ("undo", f"i:{second}"), ("label", f"i:{second}"),
    ], events
    assert [label for action, _, label in events if action == "label"] == ["bug", "feature"], events

    # skip through the line until the long and the hostile records have both been on the card
    # (either may have come up, and been checked, above)
    focus_card(page)
    key = after
    for _ in range(40):
        check(key)
        if check.done:
            break
        page.keyboard.press("s")
        key = wait_card(page, key_not=key)
    assert check.done, f"long record seen: {check.seen_long}, hostile record seen: {check.seen_hostile}"

    # two more of each label: the model trains in the background and its suggestion reaches the
    # card (trait changes made from the training thread)
    for label_key in "1212":
        key = current_key(page)
        count = int(page.locator(f"{CARD} .al-progress").inner_text().split("/")[0])
        page.keyboard.press(label_key)
        wait_card(page, key_not=key, progress=[f"{count + 1} / 20 labeled"])
    page.wait_for_selector(f"{CARD} .al-status.al-status-ready", timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_selector(f"{CARD} .al-suggestion .al-suggested-label", timeout=KERNEL_TIMEOUT_MS)
    assert page.locator(f"{CARD} .al-label.al-suggested").count() == 1
    card_shot, _ = screenshot(page, artifacts, f"{name}-with-model")
    if frontend == "lab":
        publish_screenshot(card_shot, "card-light.png")
    assert_readable(page, artifacts, f"{name}-with-model")
    assert_not_pwned(page)
    assert_no_card_errors(page)


#: Keys that act on cells in the notebook's command mode. With the card focused they must stay
#: on the card: the card's own keys do their job, the others do nothing.
COMMAND_MODE_KEYS = ["a", "b", "c", "v", "x", "m", "y", "r", "z", "l", "o", "d", "d"]


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_card_keys_never_edit_the_notebook(frontend, start_jupyter, page, artifacts):
    """With the card focused, letters the notebook binds in command mode (a, b, x, m, d d, r, z...)
    never insert, cut, convert or delete cells; z reaches the card ("Nothing to undo"); Shift+Enter
    still runs the cell."""
    server = start_jupyter(frontend)
    nb = write_notebook(server.root, "keys.ipynb", [TEXT_SETUP, REPORT_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 20 labeled"])
    before = notebook_cells(page)
    for key in COMMAND_MODE_KEYS:
        page.keyboard.press(key)
    # The card handles keys in order: once the key map is open, every key above has been
    # handled. Stop waiting early if the notebook changed (then the card may be gone).
    page.keyboard.press("?")
    page.wait_for_function(
        """([sel, before]) => {
             const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map(c =>
               (['jp-CodeCell', 'jp-MarkdownCell', 'jp-RawCell'].find(k => c.classList.contains(k)) || '?') + ':' +
               ((c.querySelector('.cm-line') || {}).textContent || ''));
             if (JSON.stringify(cells) !== JSON.stringify(before.map(c => c.join(':')))) return true;
             const keymap = document.querySelector(sel + ' .al-keymap');
             return keymap && !keymap.hidden;
           }""",
        arg=[CARD, before], timeout=UI_TIMEOUT_MS,
    )
    screenshot_page(page, artifacts, f"{frontend}-after-command-mode-keys")
    assert notebook_cells(page) == before
    assert page.locator(CARD).count() == 1
    notice = page.locator(f"{CARD} .al-notice")
    notice.wait_for(state="visible", timeout=CARD_TIMEOUT_MS)
    assert "undo" in notice.inner_text().lower()  # z reached the card: "Nothing to undo."
    page.keyboard.press("Escape")
    page.locator(CARD).locator(".al-keymap").wait_for(state="hidden")
    assert_no_card_errors(page)

    # Shift+Enter is the notebook's, even with the card focused: it runs the card's cell again
    # (a new card comes) and moves on to the next cell
    first_cell = page.locator(".jp-Notebook .jp-Cell").nth(0)
    prompt = first_cell.locator(".jp-InputPrompt").inner_text().strip()
    focus_card(page)
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        """([before]) => {
             const p = document.querySelector('.jp-Notebook .jp-Cell .jp-InputPrompt');
             const text = p ? p.textContent.trim() : before;
             return text !== before && !text.includes('*');
           }""",
        arg=[prompt], timeout=KERNEL_TIMEOUT_MS,
    )
    assert page.locator(".jp-Notebook .jp-Cell").nth(1).evaluate("c => c.classList.contains('jp-mod-active')")
    assert notebook_cells(page) == before
    show_card(page)
    assert_no_card_errors(page)


def test_dark_theme_with_key_map(start_jupyter, page, artifacts, publish_screenshot):
    """JupyterLab Dark (set in the user's theme settings): the card follows the theme, every text
    on it stays readable, and the key map opens with ? and closes with Escape."""
    server = start_jupyter("lab", settings={"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}})
    nb = write_notebook(server.root, "dark.ipynb", [TEXT_SETUP])
    open_notebook(page, server, nb)
    page.wait_for_function("document.body.dataset.jpThemeName === 'JupyterLab Dark'", timeout=UI_TIMEOUT_MS)
    assert page.evaluate("document.body.dataset.jpThemeLight") == "false"
    run_cell(page, 0)
    show_card(page)
    wait_card(page, progress=["0 / 20 labeled"])

    # the card draws with the theme's colours: light text on a dark background
    card_fg, card_bg = page.evaluate(
        "sel => { const s = getComputedStyle(document.querySelector(sel)); return [s.color, s.backgroundColor]; }", CARD
    )
    assert _luminance(card_bg) < 0.2 < _luminance(card_fg), (card_fg, card_bg)
    assert_readable(page, artifacts, "lab-dark-card")
    screenshot(page, artifacts, "lab-dark-card")

    page.keyboard.press("?")
    keymap = page.locator(f"{CARD} .al-keymap")
    keymap.wait_for(state="visible")
    assert "skip" in keymap.inner_text()
    assert_readable(page, artifacts, "lab-dark-keymap")
    card_shot, _ = screenshot(page, artifacts, "lab-dark-keymap")
    publish_screenshot(card_shot, "card-dark.png")

    page.keyboard.press("Escape")
    keymap.wait_for(state="hidden")

    # review in the dark: the banner, the given label's button and the recent answers stay readable
    first = current_key(page)
    page.keyboard.press("1")
    wait_card(page, key_not=first, progress=["1 / 20 labeled"])
    page.keyboard.press("v")
    page.locator(f"{CARD} .al-review").wait_for(state="visible", timeout=CARD_TIMEOUT_MS)
    wait_card(page, key_is=first)
    assert_readable(page, artifacts, "lab-dark-review")
    card_shot, _ = screenshot(page, artifacts, "lab-dark-review")
    publish_screenshot(card_shot, "card-review-dark.png")
    page.keyboard.press("v")
    page.locator(f"{CARD} .al-review").wait_for(state="hidden", timeout=CARD_TIMEOUT_MS)
    assert_no_card_errors(page)


def test_key_map_lays_out_keys_next_to_their_meaning(start_jupyter, page, artifacts):
    """In the open key map every key sits on the same line as what it does, and no key is cut off."""
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "keymap.ipynb", [TEXT_SETUP])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    page.keyboard.press("?")
    keymap = page.locator(f"{CARD} .al-keymap")
    keymap.wait_for(state="visible")
    screenshot(page, artifacts, "lab-keymap")
    assert_readable(page, artifacts, "lab-keymap")  # the light theme's key map and pressed ? button
    rows = page.evaluate(
        """sel => Array.from(document.querySelectorAll(sel + ' .al-keymap kbd')).map(k => {
             const key = k.getBoundingClientRect();
             // what the key does: the next text-bearing sibling of the key's row element
             let holder = k.parentElement, what = holder.nextElementSibling;
             const r = what ? what.getBoundingClientRect() : null;
             return { key: k.textContent, clipped: k.scrollWidth > k.clientWidth + 1 ||
                        k.getBoundingClientRect().right > holder.getBoundingClientRect().right + 1,
                      keyMid: (key.top + key.bottom) / 2, what: what ? what.textContent : null,
                      whatTop: r ? r.top : null, whatBottom: r ? r.bottom : null };
           })""",
        CARD,
    )
    assert rows
    clipped = [r["key"] for r in rows if r["clipped"]]
    assert not clipped, f"keys cut off: {clipped}"
    apart = [(r["key"], r["what"]) for r in rows
             if r["what"] is not None and not (r["whatTop"] - 2 <= r["keyMid"] <= r["whatBottom"] + 2)]
    assert not apart, f"keys not on the line of what they do: {apart}"


def test_image_card_digits(start_jupyter, page, artifacts, publish_screenshot):
    """8x8 digits from scikit-learn show as a crisp image; a key labels it and the next one comes."""
    server = start_jupyter("lab")
    setup = '''\
import pandas as pd
from sklearn.datasets import load_digits
from activelabel_widget import ActiveLabeler

digits = load_digits()
df = pd.DataFrame({"pixels": list(digits.images[:200])})
al = ActiveLabeler(df, image="pixels", labels=[str(d) for d in range(10)], store="digits.db")
al'''
    nb = write_notebook(server.root, "digits.ipynb", [setup, REPORT_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    first = wait_card(page, progress=["0 / 200 labeled"])
    image = f"{CARD} img.al-image"
    loaded = "sel => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }"
    page.wait_for_function(loaded, arg=image, timeout=UI_TIMEOUT_MS)
    assert page.evaluate("sel => document.querySelector(sel).naturalWidth", image) >= 160
    assert page.locator(f"{CARD} .al-label").count() == 10
    assert_readable(page, artifacts, "lab-image")
    card_shot, _ = screenshot(page, artifacts, "lab-image")
    publish_screenshot(card_shot, "card-image.png")

    # labels named "0".."9": each digit saves its own label (key 1 once saved "0")
    hints = page.locator(f"{CARD} .al-label .al-kbd").all_inner_texts()
    assert hints == [str(k) for k in range(10)], hints

    page.keyboard.press("0")  # the label "0"
    second = wait_card(page, key_not=first, progress=["1 / 200 labeled"])
    page.wait_for_function(loaded, arg=image, timeout=UI_TIMEOUT_MS)
    page.keyboard.press("9")  # the label "9"
    wait_card(page, key_not=second, progress=["2 / 200 labeled"])
    page.wait_for_function(loaded, arg=image, timeout=UI_TIMEOUT_MS)
    run_cell(page, 1)
    assert json.loads(cell_output(page, 1, "LABELED=")) == {first: "0", second: "9"}
    assert_no_card_errors(page)


def test_photographs_show_as_jpeg_and_a_key_labels_the_one_on_screen(start_jupyter, page, artifacts):
    """Colour photographs travel as JPEG (PNG cannot compress their noise): each shows at 512 px and
    a key labels the one on screen."""
    server = start_jupyter("lab")
    setup = '''\
import numpy as np
import pandas as pd
from activelabel_widget import ActiveLabeler

rng = np.random.default_rng(0)
ramp = np.linspace(0, 1, 640)
photos = [(np.outer(ramp, ramp)[..., None] * rng.uniform(60, 220, 3) + rng.normal(0, 20, (640, 640, 3)))
          .clip(0, 255).astype(np.uint8) for _ in range(12)]
al = ActiveLabeler(pd.DataFrame({"photo": photos}), image="photo", labels=["keep", "drop"], store="photos.db")
al'''
    nb = write_notebook(server.root, "photos.ipynb", [setup, REPORT_CELL])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    show_card(page)
    image = f"{CARD} img.al-image"
    loaded = "sel => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }"
    jpeg = "sel => fetch(document.querySelector(sel).src).then(r => r.blob()).then(b => b.type)"
    shown, previous = {}, None
    for pressed in range(3):
        previous = wait_card(page, key_not=previous, progress=[f"{pressed} / 12 labeled"])
        page.wait_for_function(loaded, arg=image, timeout=UI_TIMEOUT_MS)
        assert page.evaluate("sel => document.querySelector(sel).naturalWidth", image) == 512
        assert page.evaluate(jpeg, image) == "image/jpeg"
        if pressed == 0:
            screenshot(page, artifacts, "lab-photo")
        shown[previous] = "keep" if pressed % 2 == 0 else "drop"
        page.keyboard.press("1" if pressed % 2 == 0 else "2")
    wait_card(page, key_not=previous, progress=["3 / 12 labeled"])
    run_cell(page, 1)
    assert json.loads(cell_output(page, 1, "LABELED=")) == shown
    assert_no_card_errors(page)


# -- colour maths for the dark-theme check -----------------------------------------------------


def _rgb(css: str) -> tuple[float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", css)[:3]]
    assert len(values) == 3, css
    return tuple(values)


def _luminance_rgb(rgb) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _luminance(css: str) -> float:
    return _luminance_rgb(_rgb(css))


def _contrast_rgb(fg, bg) -> float:
    a, b = sorted((_luminance_rgb(fg), _luminance_rgb(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


REVIEW_REPORT_CELL = '''\
import json
frame = al.labeled
print("REVIEWED=" + json.dumps({str(k): [str(frame.loc[k, "label"]), frame.loc[k, "source"] if not frame.loc[k, "rejected"] else None,
                                         None if pd.isna(frame.loc[k, "previous_label"]) else str(frame.loc[k, "previous_label"])]
                                for k in frame.index}, sort_keys=True))'''


def recent_labels(page) -> list[str]:
    return page.locator(f"{CARD} .al-recent-item .al-recent-label").all_inner_texts()


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_recent_answers_relabel_and_review_from_the_card(frontend, start_jupyter, page, artifacts, publish_screenshot):
    """Three labels by key; the recent answers list them newest first; a click on the oldest brings
    it back in review, 3 corrects it (one event, source "corrected") and labeling goes on where it
    was; z takes the correction back and shows the record with its old label; Enter keeps it; v
    walks every label newest first and v again returns to labeling."""
    server = open_card(start_jupyter, page, frontend, "review.ipynb", [TEXT_SETUP, REVIEW_REPORT_CELL])
    name = f"{frontend}-review"
    keys = []
    for label_key in "123":
        keys.append(wait_card(page, progress=[f"{len(keys)} / 20 labeled"]))
        page.keyboard.press(label_key)
    labeling = wait_card(page, key_not=keys[-1], progress=["3 / 20 labeled"])
    page.wait_for_function("sel => document.querySelectorAll(sel + ' .al-recent-item').length === 3", arg=CARD,
                           timeout=CARD_TIMEOUT_MS)
    assert recent_labels(page) == ["question", "feature", "bug"]
    assert page.locator(f"{CARD} .al-recent-item .al-recent-row").all_inner_texts() == [f"row {k}" for k in reversed(keys)]
    screenshot(page, artifacts, f"{name}-recent")

    # click the oldest answer: it comes back in review with its label; 3 corrects it
    page.locator(f"{CARD} .al-recent-item").nth(2).click()
    wait_card(page, key_is=keys[0])
    page.locator(f"{CARD} .al-review").wait_for(state="visible", timeout=CARD_TIMEOUT_MS)
    assert page.locator(f"{CARD} .al-given-text").inner_text().startswith("labeled bug · hand")
    assert page.locator(f"{CARD} .al-label.al-given").get_attribute("data-label") == "bug"
    card_shot, _ = screenshot(page, artifacts, f"{name}-revisit")
    if frontend == "lab":
        publish_screenshot(card_shot, "card-review.png")
    assert_readable(page, artifacts, f"{name}-revisit")
    focus_card(page)
    page.keyboard.press("3")
    wait_card(page, key_is=labeling)
    page.locator(f"{CARD} .al-review").wait_for(state="hidden", timeout=CARD_TIMEOUT_MS)
    page.wait_for_function("sel => (document.querySelector(sel + ' .al-recent-label') || {}).textContent === 'question (was bug)'",
                           arg=CARD, timeout=CARD_TIMEOUT_MS)

    # z takes the correction back: the record shows again with its old label; Enter keeps it
    page.keyboard.press("z")
    wait_card(page, key_is=keys[0])
    page.wait_for_function("sel => (document.querySelector(sel + ' .al-given-text') || {}).textContent.startsWith('labeled bug')",
                           arg=CARD, timeout=CARD_TIMEOUT_MS)
    assert "was: question" in page.locator(f"{CARD} .al-meta").inner_text()
    page.keyboard.press("Enter")
    wait_card(page, key_is=labeling)

    # v: walk every label, newest first (no fit yet, so no label errors to start with); v leaves
    page.keyboard.press("v")
    page.locator(f"{CARD} .al-review").wait_for(state="visible", timeout=CARD_TIMEOUT_MS)
    wait_card(page, key_is=keys[2])
    assert page.locator(f"{CARD} .al-review-text").inner_text() == "reviewing newest first · 1 of 3"
    page.keyboard.press("Enter")
    wait_card(page, key_is=keys[1])
    page.wait_for_function("sel => document.querySelector(sel + ' .al-review-text').textContent.endsWith('2 of 3')",
                           arg=CARD, timeout=CARD_TIMEOUT_MS)
    screenshot(page, artifacts, f"{name}-walk")
    page.keyboard.press("v")
    wait_card(page, key_is=labeling)
    page.locator(f"{CARD} .al-review").wait_for(state="hidden", timeout=CARD_TIMEOUT_MS)

    # a note on the record on screen (typed keys stay in the field), then Delete rejects it
    note = page.locator(f"{CARD} .al-note-field")
    note.click()
    page.keyboard.type("same as 1s and 2s")  # s and digits type, they do not skip or label
    page.keyboard.press("Enter")
    page.wait_for_function("sel => (document.querySelector(sel + ' .al-recent-label') || {}).textContent === "
                           "'note: same as 1s and 2s'", arg=CARD, timeout=CARD_TIMEOUT_MS)
    assert current_key(page) == labeling
    focus_card(page)
    page.keyboard.press("Delete")
    wait_card(page, key_not=labeling)
    page.wait_for_function("sel => (document.querySelector(sel + ' .al-recent-label') || {}).textContent === "
                           "'rejected'", arg=CARD, timeout=CARD_TIMEOUT_MS)

    run_cell(page, 1)
    reviewed = json.loads(cell_output(page, 1, "REVIEWED="))
    assert reviewed == {keys[0]: ["bug", "hand", None], keys[1]: ["feature", "hand", None],
                        keys[2]: ["question", "hand", None], labeling: ["nan", None, None]}
    events = store_events(server.root / "labels.db")
    assert [(action, key, label) for action, key, label in events] == [
        ("label", f"i:{keys[0]}", "bug"), ("label", f"i:{keys[1]}", "feature"), ("label", f"i:{keys[2]}", "question"),
        ("label", f"i:{keys[0]}", "question"), ("undo", f"i:{keys[0]}", None),
        ("note", f"i:{labeling}", None), ("reject", f"i:{labeling}", None),
    ], events
    assert_not_pwned(page)
    assert_no_card_errors(page)


TWELVE_LABELS_SETUP = '''\
import pandas as pd
from activelabel_widget import ActiveLabeler

df = pd.DataFrame({"body": [f"ticket number {i} about something" for i in range(30)]})
labels = [str(d) for d in range(10)] + ["other", "spam"]
al = ActiveLabeler(df, text="body", labels=labels, store="labels.db", keys={"spam": "x"},
                   guidelines={"spam": "ads, scams and anything unsolicited", "other": "none of the numbers fit"})
al'''


def test_twelve_labels_each_with_its_own_key(start_jupyter, page, artifacts, publish_screenshot):
    """Labels named 0..9 are saved by their own digit, "other" gets the first free letter and
    "spam" the key chosen for it; the buttons and the key map show the same keys."""
    server = open_card(start_jupyter, page, "lab", "twelve.ipynb", [TWELVE_LABELS_SETUP])
    hints = page.locator(f"{CARD} .al-label kbd").all_inner_texts()
    assert hints == [str(d) for d in range(10)] + ["a", "x"]
    seen = []
    for key, done in (("1", 1), ("0", 2), ("x", 3), ("A", 4)):
        seen.append(wait_card(page, progress=[f"{done - 1} / 30 labeled"]))
        page.keyboard.press(key)
    wait_card(page, key_not=seen[-1], progress=["4 / 30 labeled"])
    screenshot(page, artifacts, "lab-twelve-labels")
    assert_readable(page, artifacts, "lab-twelve-labels")
    events = store_events(server.root / "labels.db")
    assert [(key, label) for _, key, label in events] == [(f"i:{k}", label) for k, label in
                                                          zip(seen, ["1", "0", "spam", "other"])], events
    page.keyboard.press("?")
    keymap = page.locator(f"{CARD} .al-keymap")
    keymap.wait_for(state="visible")
    rows = page.locator(f"{CARD} .al-keylabels dt").all_inner_texts()
    assert rows == [str(d) for d in range(10)] + ["a", "x"]
    assert page.locator(f"{CARD} .al-keylabels .al-guideline").all_inner_texts() == [
        "none of the numbers fit", "ads, scams and anything unsolicited"]
    assert page.locator(f"{CARD} .al-label .al-swatch").count() == 12  # each label in its plot colour
    card_shot, _ = screenshot(page, artifacts, "lab-twelve-labels-keymap")
    publish_screenshot(card_shot, "keymap-twelve-labels.png")
    assert_readable(page, artifacts, "lab-twelve-labels-keymap")
    assert_no_card_errors(page)


MULTI_LABEL_SETUP = '''\
import itertools
import pandas as pd
from activelabel_widget import ActiveLabeler

words = {"sports": "match goal team", "tech": "phone chip app", "money": "price tax bank"}
topics = [list(c) for n in (1, 2) for c in itertools.combinations(words, n)]
rows = [(" ".join(words[t] for t in topic) + f" story {i}", topic) for i, topic in
        zip(range(60), itertools.cycle(topics))]
df = pd.DataFrame({"body": [r[0] for r in rows]})
truth = {i: r[1] for i, r in enumerate(rows)}
al = ActiveLabeler(df, text="body", labels=list(words), store="labels.db", multi_label=True, retrain_every=3,
                   guidelines={"money": "prices, taxes, banks"})
al'''


def chosen_labels(page) -> list[str]:
    return page.locator(f"{CARD} .al-label[aria-pressed='true'] .al-label-name").all_inner_texts()


def test_multi_label_keys_toggle_labels_and_enter_saves_the_set(start_jupyter, page, artifacts, publish_screenshot):
    """Label keys and clicks toggle labels on the record, Enter (or the save button) saves the set,
    nothing chosen saves the empty set, and once the model has trained its suggested set starts chosen."""
    server = open_card(start_jupyter, page, "lab", "multi.ipynb", [MULTI_LABEL_SETUP])
    assert page.locator(f"{CARD} .al-save").is_visible()
    first = wait_card(page, progress=["0 / 60 labeled"])
    page.keyboard.press("1")
    page.keyboard.press("3")
    assert chosen_labels(page) == ["sports", "money"]
    page.keyboard.press("1")
    assert chosen_labels(page) == ["money"]
    screenshot(page, artifacts, "lab-multi-label-chosen")
    page.keyboard.press("Enter")
    second = wait_card(page, key_not=first, progress=["1 / 60 labeled"])
    assert chosen_labels(page) == []  # the next record starts with nothing chosen
    page.keyboard.press("Enter")  # nothing chosen: the empty set
    third = wait_card(page, key_not=second, progress=["2 / 60 labeled"])
    page.locator(f"{CARD} .al-label[data-label='tech']").click()
    page.locator(f"{CARD} .al-save").click()
    wait_card(page, key_not=third, progress=["3 / 60 labeled"])
    events = store_events(server.root / "labels.db")
    assert [(key, label) for _, key, label in events] == [(f"i:{first}", '["money"]'), (f"i:{second}", "[]"),
                                                         (f"i:{third}", '["tech"]')], events
    # label by the truth until the model suggests; a suggestion comes with its set already chosen
    marker = {"sports": "goal", "tech": "chip", "money": "tax"}
    for done in range(3, 15):
        wait_card(page, progress=[f"{done} / 60 labeled"])
        text = page.locator(f"{CARD} .al-body").inner_text()
        for name in marker:  # set each toggle to what the record's words say
            if (marker[name] in text) != (name in chosen_labels(page)):
                page.locator(f"{CARD} .al-label[data-label='{name}']").click()
        page.keyboard.press("Enter")
    page.wait_for_function(f"() => !!document.querySelector('{CARD} .al-label-p')", timeout=CARD_TIMEOUT_MS)
    suggested = page.locator(f"{CARD} .al-suggested-label").inner_text()
    assert chosen_labels(page) == ([] if suggested == "no label" else suggested.split(" + "))
    card_shot, _ = screenshot(page, artifacts, "lab-multi-label")
    publish_screenshot(card_shot, "multi-label.png")
    assert_readable(page, artifacts, "lab-multi-label")
    key = current_key(page)
    page.keyboard.press("Enter")  # accept the suggested set as it is
    wait_card(page, key_not=key, progress=["16 / 60 labeled"])
    last = store_events(server.root / "labels.db")[-1]
    assert last[1] == f"i:{key}" and json.loads(last[2]) == ([] if suggested == "no label" else suggested.split(" + "))
    page.keyboard.press("?")
    page.locator(f"{CARD} .al-keymap").wait_for(state="visible")
    assert "save the chosen labels" in page.locator(f"{CARD} .al-keycommands").inner_text()
    assert page.locator(f"{CARD} .al-keylabels dd").first.inner_text().startswith("put on or take off sports")
    assert_no_card_errors(page)


def test_multi_label_card_reads_well_in_the_dark(start_jupyter, page, artifacts):
    """Chosen, suggested and plain toggles, the save button and the probabilities stay readable in JupyterLab Dark."""
    server = start_jupyter("lab", settings={"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}})
    open_notebook(page, server, write_notebook(server.root, "multi-dark.ipynb", [MULTI_LABEL_SETUP]))
    page.wait_for_function("document.body.dataset.jpThemeName === 'JupyterLab Dark'", timeout=UI_TIMEOUT_MS)
    run_cell(page, 0)
    show_card(page)
    for done in range(6):  # enough answers for a first fit: a suggestion with probabilities
        wait_card(page, progress=[f"{done} / 60 labeled"])
        page.keyboard.press(str(done % 3 + 1))
        page.keyboard.press(str((done + 1) % 3 + 1))
        page.keyboard.press("Enter")
    page.wait_for_function(f"() => !!document.querySelector('{CARD} .al-label-p')", timeout=CARD_TIMEOUT_MS)
    page.keyboard.press("1")  # one toggle changed from the suggestion: chosen and suggested differ somewhere
    screenshot(page, artifacts, "lab-dark-multi-label")
    assert_readable(page, artifacts, "lab-dark-multi-label")
    assert_no_card_errors(page)
