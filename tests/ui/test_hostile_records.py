"""Hostile record values on the card in a real JupyterLab: nothing injected, nothing lost.

The corpus (hostile_payloads.py) goes into a text column, an extra ``show=`` column and a table
(``features=``) record, with hostile labels, a hostile column name and hostile row keys on the
table. The test skips through every record with ``s`` and checks each card as it comes up:

- nothing ran: every payload that could run code is armed with its own sentinel (it appends its
  number to ``window.__pwned``, retitles the page, requests a URL on a port the test listens on);
- nothing was created: the card has exactly the elements a card with a plain record has
  (img/script/svg/iframe/object/style/a/b... included), and the page gained no iframe, base,
  meta, link or on* attribute;
- nothing was lost: the text, the extra fields, the table cells, the row key and the label names
  on the card equal what the kernel sent (which equals the payload, up to the package's own
  cut of very long values);
- the layout holds: the card is no wider than its output area and nothing in it sticks out.

A control renders the same payloads as plain HTML in bare frames and counts the ones that run
there with no user action, to show the sentinels work.
"""

from __future__ import annotations

import http.server
import json
import re
import sqlite3
import threading
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import pytest

from hostile_payloads import LONG, PLAIN, corpus
from test_card_in_jupyter import (
    CARD_TIMEOUT_MS,
    KERNEL_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    cell_output,
    open_notebook,
    run_cell,
    write_notebook,
)

pytestmark = pytest.mark.browser

#: Longest table / extra-field cell sent uncut (activelabel_widget.dataset._MAX_CELL_CHARS).
MAX_CELL = 500
#: Element kinds a payload would create if it were parsed as HTML (counted on every card).
WATCHED_TAGS = ["img", "script", "svg", "iframe", "object", "embed", "style", "link", "meta", "base", "a", "b",
                "i", "u", "h1", "input", "form", "video", "audio", "source", "details", "marquee", "math",
                "template", "noscript", "plaintext", "xmp", "listing", "x-card", "mjx-container", "foreignobject"]


# -- a listener for the payloads' requests -----------------------------------------------------


class Listener:
    """Records every request that reaches 127.0.0.1:<port> (a payload that loaded something)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                hits.append(self.path)
                self.send_response(404)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = _record

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="payload-listener", daemon=True)
        self.thread.start()

    def numbers(self, since: int = 0) -> set[int]:
        """Payload numbers whose URL was requested (``/hit/<n>...``)."""
        out = set()
        for path in self.hits[since:]:
            parts = path.split("/")
            if len(parts) > 2 and parts[1] == "hit":
                digits = "".join(c for c in parts[2].split(".")[0] if c.isdigit())
                out.add(int(digits) if digits else -1)
        return out

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    running = Listener()
    try:
        yield running
    finally:
        running.close()


# -- notebook ----------------------------------------------------------------------------------

SETUP = '''\
import json
import pandas as pd
from activelabel_widget import ActiveLabeler

corpus = json.load(open("corpus.json", encoding="utf-8"))
texts = [corpus["plain"]] + [p["text"] for p in corpus["payloads"]]

def sent(al):
    """What the kernel sends to the card for every row, keyed by the row label the card shows."""
    d = al.session.dataset
    out = {}
    for position in range(len(d)):
        p = d.payload(position)
        out[d.key_label(position)] = {"text": p.text, "fields": p.fields, "kind": p.kind}
    return out
print("SETUP=ok")'''

TEXT_CARD = '''\
df = pd.DataFrame({"body": texts, "note": texts}, index=range(len(texts)))
text_al = ActiveLabeler(df, text="body", show=["note"], labels=["bug", "feature"], store="hostile_text.db")
json.dump({"sent": sent(text_al), "labels": text_al.session.labels}, open("sent_text.json", "w", encoding="utf-8"))
text_al'''

TABLE_CARD = '''\
hostile_column = corpus["column"]
table = pd.DataFrame(
    {"subject": ["plain subject"] + [p["name"] for p in corpus["payloads"]],
     "body": texts,
     hostile_column: texts[1:] + texts[:1]},
    index=[f"{i:02d} {t[:60]}" for i, t in enumerate(texts)],
)
table_al = ActiveLabeler(table, features=["subject", "body", hostile_column], labels=corpus["labels"],
                         store="hostile_table.db")
json.dump({"sent": sent(table_al), "labels": table_al.session.labels}, open("sent_table.json", "w", encoding="utf-8"))
table_al'''

REPORT = '''\
print("ERRORS=" + json.dumps([text_al.widget.error, table_al.widget.error]))
print("PROGRESS=" + json.dumps([text_al.session.progress, table_al.session.progress]))'''


# -- card snapshots ----------------------------------------------------------------------------

_SNAPSHOT_JS = """
(card, watched) => {
  const all = Array.from(card.querySelectorAll('*'));
  // elements of the record's card; the recent answers list grows with the history, not with the record
  // (its snippets are still watched below, with the whole card)
  const tags = {};
  for (const el of all) {
    if (el.closest('.al-recent')) continue;
    const t = el.tagName.toLowerCase(); tags[t] = (tags[t] || 0) + 1;
  }
  const rows = sel => Array.from(card.querySelectorAll(sel + ' tr')).map(tr =>
    [tr.querySelector('th').textContent, tr.querySelector('td').textContent]);
  const text = card.querySelector('.al-record .al-text');
  const key = card.querySelector('.al-key');
  const cardBox = card.getBoundingClientRect();
  const area = card.closest('.jp-OutputArea-output') || card.parentElement;
  const areaBox = area.getBoundingClientRect();
  // what sticks out of the card, taking scrolling / clipping ancestors inside the card into account
  const outside = [], sideways = [];
  for (const el of all) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    let left = r.left, right = r.right;
    for (let a = el.parentElement; a && a !== card; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') {
        const b = a.getBoundingClientRect();
        left = Math.max(left, b.left); right = Math.min(right, b.right);
      }
    }
    if (right > left && (right > cardBox.right + 1 || left < cardBox.left - 1)) {
      outside.push((el.className || el.tagName) + ' ' + Math.round(left) + '..' + Math.round(right));
    }
    // content that only fits by scrolling sideways (an ellipsis is a deliberate cut, not counted)
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible' && style.textOverflow !== 'ellipsis' && el.tagName !== 'SELECT' &&
        el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      sideways.push((el.className || el.tagName) + ' ' + el.scrollWidth + '>' + el.clientWidth);
    }
  }
  return {
    key: key ? key.textContent : null,
    keyTitle: key ? key.getAttribute('title') : null,
    kind: (card.querySelector('.al-record') || {dataset: {}}).dataset.kind,
    text: text ? text.textContent : null,
    clipped: text ? text.classList.contains('al-clipped') : false,
    more: card.querySelectorAll('.al-more').length,
    extra: rows('.al-extra-fields'),
    table: rows('.al-record-table'),
    labels: Array.from(card.querySelectorAll('.al-label')).map(b =>
      [b.getAttribute('data-label'), b.querySelector('.al-label-name').textContent]),
    tags,
    watched: Object.fromEntries(watched.map(t => [t, card.getElementsByTagName(t).length])),
    cardWidth: cardBox.width, areaWidth: areaBox.width, cardRight: cardBox.right, areaRight: areaBox.right,
    scrollWidth: card.scrollWidth, clientWidth: card.clientWidth,
    outside: outside.slice(0, 10),
    sideways: sideways.slice(0, 10),
    error: (card.querySelector('.al-error') || {}).hidden === false ? card.querySelector('.al-error').textContent : '',
    visible: card.getClientRects().length > 0 && getComputedStyle(card).display !== 'none',
  };
}
"""

_PAGE_STATE_JS = """
() => ({
  pwned: typeof window.__pwned === 'undefined' ? null : Array.from(window.__pwned),
  title: document.title,
  handlers: document.querySelectorAll(
    '[onerror],[onload],[ontoggle],[onfocus],[onbegin],[onstart],[onmouseover],[onclick]').length,
  iframes: document.querySelectorAll('iframe').length,
  base: document.querySelectorAll('base').length,
  meta: document.querySelectorAll('meta[http-equiv]').length,
  links: Array.from(document.querySelectorAll('link')).filter(l => l.href.includes('/hit/')).length,
  notebookStyles: document.querySelectorAll('.jp-Notebook style, .jp-Notebook script').length,
  url: location.pathname,
})
"""

_KEY_CHANGED_JS = """
([card, previous]) => {
  const key = card.querySelector('.al-key');
  return key !== null && key.textContent !== previous;
}
"""


def card_in_cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".al-card")


def show_card_in_cell(page, index: int):
    """Wait for the card in a cell's output, let the view settle, click it so keys go to it."""
    card = card_in_cell(page, index)
    card.wait_for(state="visible", timeout=KERNEL_TIMEOUT_MS)
    card.locator(".al-label").first.wait_for(timeout=UI_TIMEOUT_MS)
    card.locator(".al-key").wait_for(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # the view re-renders once the model syncs
    card.locator(".al-progress").click()
    page.wait_for_function(
        "card => document.activeElement && card.contains(document.activeElement)",
        arg=card.element_handle(), timeout=UI_TIMEOUT_MS,
    )
    return card


def skip_through(page, card, expected_keys: set[str], shots: dict[str, Path] | None = None) -> dict[str, dict]:
    """Press s until every row has been on the card; snapshot each card as it comes up (and save
    a picture of the card for the rows in ``shots``)."""
    seen: dict[str, dict] = {}
    shots = shots or {}
    for _ in range(4 * len(expected_keys) + 10):
        snap = card.evaluate(_SNAPSHOT_JS, WATCHED_TAGS)
        key = snap["key"]
        assert key is not None and key.startswith("row "), snap
        row = key[len("row "):]
        if row in shots and row not in seen:
            page.mouse.move(0, 0)
            card.screenshot(path=str(shots[row]), animations="disabled")
        seen.setdefault(row, snap)
        if expected_keys <= seen.keys():
            break
        page.keyboard.press("s")
        page.wait_for_function(_KEY_CHANGED_JS, arg=[card.element_handle(), key], timeout=CARD_TIMEOUT_MS)
    return seen


#: Rows whose card is saved as a picture in the artifacts, to look at.
PICTURED = {"unterminated RTL override", "100 KB unbroken", "huge font", "style hides the card", "combining marks (zalgo)",
            "emoji and wide characters"}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def expected_cell(value: str) -> str:
    """A table / extra-field cell as the package sends it (cut after MAX_CELL characters)."""
    return value if len(value) <= MAX_CELL else value[:MAX_CELL] + f"… ({len(value):,} characters)"


def expected_text(value: str) -> str:
    """A record text as the package sends it (cut after LONG characters, with a note)."""
    if len(value) <= LONG:
        return value
    return value[:LONG] + f"\n\n[text cut: {len(value):,} characters, showing the first {LONG:,}]"


def check_card(name: str, snap: dict, baseline: dict, sent: dict, labels: list[str]) -> list[str]:
    """Everything wrong with one card, as readable lines (empty when the card is right)."""
    problems = []
    # nothing lost: the card shows what the kernel sent, as text
    if sent["kind"] == "text":
        if snap["text"] != sent["text"]:
            problems.append(f"text differs: card {len(snap['text'] or '')} chars, kernel {len(sent['text'])} chars")
        if snap["extra"] != sent["fields"]:
            problems.append(f"extra fields differ: {str(snap['extra'])[:200]!r} != {str(sent['fields'])[:200]!r}")
    else:
        if snap["table"] != sent["fields"]:
            problems.append(f"table cells differ: {str(snap['table'])[:200]!r} != {str(sent['fields'])[:200]!r}")
    if [n for n, _ in snap["labels"]] != labels or [t for _, t in snap["labels"]] != labels:
        problems.append(f"label buttons differ: {snap['labels']!r}")
    if snap["keyTitle"] != snap["key"]:
        problems.append(f"row key title {snap['keyTitle']!r} != {snap['key']!r}")
    # nothing created: the same elements as on the plain card (plus "show more" for long text)
    tags = Counter(snap["tags"])
    tags["button"] -= snap["more"]
    base = Counter(baseline["tags"])
    base["button"] -= baseline["more"]
    if +tags != +base:
        problems.append(f"elements differ from the plain card: extra {dict(tags - base)}, missing {dict(base - tags)}")
    if snap["watched"] != baseline["watched"]:
        diff = {t: (baseline["watched"][t], c) for t, c in snap["watched"].items() if c != baseline["watched"][t]}
        problems.append(f"watched elements (plain, this card): {diff}")
    # the layout holds
    if snap["cardWidth"] > snap["areaWidth"] + 0.5 or snap["cardRight"] > snap["areaRight"] + 0.5:
        problems.append(f"card {snap['cardWidth']:.0f}px wider than its output area {snap['areaWidth']:.0f}px")
    if snap["scrollWidth"] > snap["clientWidth"] + 1:
        problems.append(f"card scrolls sideways: scrollWidth {snap['scrollWidth']} > clientWidth {snap['clientWidth']}")
    if snap["outside"]:
        problems.append(f"sticks out of the card: {snap['outside']}")
    if snap["sideways"]:
        problems.append(f"only fits by scrolling sideways: {snap['sideways']}")
    if snap["error"]:
        problems.append(f"error banner: {snap['error']!r}")
    if not snap["visible"]:
        problems.append("card hidden")
    return [f"{name}: {p}" for p in problems]


_CONTROL_JS = """
async ([texts, settleMs]) => {
  const frames = texts.map(t => {
    const f = document.createElement('iframe');
    f.srcdoc = '<!doctype html><title>control</title><body>' + t;
    document.body.appendChild(f);
    return f;
  });
  await new Promise(r => setTimeout(r, settleMs));
  return frames.map(f => {
    try {
      const w = f.contentWindow;
      return [w.__pwned ? Array.from(w.__pwned) : [], w.document.title];
    } catch (e) {
      return [[], 'navigated away'];
    }
  });
}
"""


def armed_as_html(browser, payloads, listener: Listener) -> set[int]:
    """Payloads that run or load something with no user action when parsed as plain HTML."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content("<!doctype html><title>control</title><body></body>")
        since = len(listener.hits)
        results = page.evaluate(_CONTROL_JS, [[p.text for p in payloads], 1500])
        page.wait_for_timeout(300)
    finally:
        context.close()
    hit = listener.numbers(since)
    return {p.n for p, (pwned, title) in zip(payloads, results) if pwned or "pwned" in title or p.n in hit}


# -- the test ----------------------------------------------------------------------------------


def test_hostile_records_stay_text(start_jupyter, page, browser, listener, artifacts, capsys):
    """Every payload of the corpus, in a text column, an extra column and a table record, shows
    literally on the card in JupyterLab; none runs, none adds an element, none breaks the layout."""
    payloads = corpus(listener.port)
    assert len(payloads) >= 30
    by_number = {p.n: p for p in payloads}
    img_onerror = next(p for p in payloads if p.name == "img onerror")
    rtl = next(p for p in payloads if p.name == "unterminated RTL override")
    bold = next(p for p in payloads if p.name == "simple HTML markup")
    table_labels = [img_onerror.text, bold.text[:40], rtl.text[:30]]
    hostile_column = next(p for p in payloads if p.name == "svg onload").text

    server = start_jupyter("lab")
    (server.root / "corpus.json").write_text(json.dumps({
        "plain": PLAIN, "payloads": [asdict(p) for p in payloads], "labels": table_labels, "column": hostile_column,
    }), encoding="utf-8")
    nb = write_notebook(server.root, "hostile.ipynb", [SETUP, TEXT_CARD, TABLE_CARD, REPORT])
    open_notebook(page, server, nb)
    before = page.evaluate(_PAGE_STATE_JS)
    run_cell(page, 0)
    cell_output(page, 0, "SETUP=")

    problems: list[str] = []
    for cell, sent_file, role in ((1, "sent_text.json", "text"), (2, "sent_table.json", "table")):
        run_cell(page, cell)
        card = show_card_in_cell(page, cell)
        sent_all = json.loads((server.root / sent_file).read_text(encoding="utf-8"))
        sent, labels = sent_all["sent"], sent_all["labels"]
        assert len(sent) == len(payloads) + 1
        pictured = {p.n: p.name for p in payloads if p.name in PICTURED}
        shots = {key: artifacts / f"hostile-{role}-{_slug(pictured[int(key.split(' ')[0])])}.png"
                 for key in sent if int(key.split(" ")[0]) in pictured}
        seen = skip_through(page, card, set(sent), shots)
        assert set(seen) == set(sent), f"{role}: never shown: {sorted(set(sent) - set(seen))[:5]}"
        rows = sorted(sent)  # "0".."77" for text, "00 ..".."77 .." for the table
        plain_key = rows[0] if role == "table" else "0"
        baseline = seen[plain_key]
        for key in rows:
            number = int(key.split(" ")[0])
            payload = by_number.get(number)
            name = f"{role} row {number} ({payload.name if payload else 'plain'})"
            # the kernel has the payload as given (nothing lost before the wire)
            raw = payload.text if payload else PLAIN
            if role == "text":
                assert sent[key]["text"] == expected_text(raw), name
                assert sent[key]["fields"] == [["note", expected_cell(raw)]], name
            else:
                assert sent[key]["fields"][1] == ["body", expected_cell(raw)], name
                assert sent[key]["fields"][2][0] == hostile_column, name
            problems += check_card(name, seen[key], baseline, sent[key], labels)

    # give timers, loads and late network requests a moment, then look for any trace of a payload
    page.wait_for_timeout(2000)
    after = page.evaluate(_PAGE_STATE_JS)
    on_card_hits = listener.numbers()
    retitled = {int(n) for n in re.findall(r"pwned (\d+)", after["title"])}
    executed = set(after["pwned"] or []) | on_card_hits | retitled
    run_cell(page, 3)
    errors = json.loads(cell_output(page, 3, "ERRORS="))
    armed = armed_as_html(browser, payloads, listener)

    figure = (f"hostile payloads: {len(payloads)} tried, each in 3 places (text column, show= column, table "
              f"record; the table also has hostile labels, a hostile column name and hostile row keys) = "
              f"{3 * len(payloads)} renderings; {len(armed)} of the payloads run or load something as plain "
              f"HTML (control); executed on the card: {len(executed)}")
    (artifacts / "hostile_records.txt").write_text(figure + "\n")
    with capsys.disabled():
        print("\n" + figure)

    assert not problems, "\n".join(problems[:40])

    assert after["pwned"] is None, f"payloads ran: {sorted(set(after['pwned']))} " \
                                   f"{[by_number[n].name for n in set(after['pwned']) if n in by_number]}"
    assert "pwned" not in after["title"], after["title"]
    assert not on_card_hits, f"payloads loaded URLs: {sorted(on_card_hits)} {listener.hits[:10]}"
    for name in ("handlers", "iframes", "base", "meta", "links", "notebookStyles", "url"):
        assert after[name] == before[name], (name, before[name], after[name])
    assert errors == ["", ""], errors
    assert len(armed) >= 30, f"the control ran only {sorted(armed)}: the sentinels do not work"
    assert not [e for e in page.console_errors if "activelabel" in e or "al-card" in e], page.console_errors
    # the store holds the skips and nothing else (no key press labeled anything)
    for db in ("hostile_text.db", "hostile_table.db"):
        conn = sqlite3.connect(server.root / db)
        try:
            actions = {a for (a,) in conn.execute("SELECT action FROM events")}
        finally:
            conn.close()
        assert actions == {"skip"}, (db, actions)


# -- text that cannot be encoded -----------------------------------------------------------------

SURROGATE_SETUP = '''\
import pandas as pd
from activelabel_widget import ActiveLabeler

# a lone surrogate, as bytes read with errors="surrogateescape" (or half an emoji) leave in a str
notes = ["plain note 0", "plain note 1", "plain note 2", "plain note 3", "half an emoji: \\ud83d, a stray byte: caf\\udce9, end"]
df = pd.DataFrame({"body": [f"plain text {i}" for i in range(len(notes))], "note": notes}, dtype=object)
al = ActiveLabeler(df, text="body", show=["note"], labels=["bug", "feature"], store="surrogates.db")
al'''

SURROGATE_REPORT = '''\
import json
print("STATE=" + json.dumps({"labeled": al.session.progress["labeled"], "error": al.widget.error}))'''

_NEXT_OR_STUCK_JS = """
([card, previous, labeled]) => {
  const key = card.querySelector('.al-key');
  const error = card.querySelector('.al-error');
  const progress = (card.querySelector('.al-progress') || {}).textContent || '';
  return (error !== null && !error.hidden) || key === null || key.textContent !== previous ||
         progress.startsWith(labeled + ' / ');
}
"""


def test_unencodable_text_never_wedges_the_card(start_jupyter, page, artifacts):
    """A record whose extra column holds a lone surrogate still comes up (with a replacement
    character) and can be labeled; the card never sticks on a record already labeled."""
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "surrogates.ipynb", [SURROGATE_SETUP, SURROGATE_REPORT])
    open_notebook(page, server, nb)
    run_cell(page, 0)
    card = show_card_in_cell(page, 0)
    seen = []
    for labeled in range(1, 6):
        snap = card.evaluate(_SNAPSHOT_JS, WATCHED_TAGS)
        assert not snap["error"], f"after {seen}: {snap['error']}"
        assert snap["key"] not in [key for key, _ in seen], f"the card still shows {snap['key']}, labeled already"
        seen.append((snap["key"], snap["extra"]))
        page.keyboard.press("1")
        page.wait_for_function(_NEXT_OR_STUCK_JS, arg=[card.element_handle(), snap["key"], labeled],
                               timeout=CARD_TIMEOUT_MS)
    run_cell(page, 1)
    state = json.loads(cell_output(page, 1, "STATE="))
    assert state == {"labeled": 5, "error": ""}, state
    odd = [extra for _, extra in seen if extra and "half an emoji" in extra[0][1]]
    assert odd and odd[0][0][1].endswith(", end"), seen
