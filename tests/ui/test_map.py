"""The embedding map beside the card in a real JupyterLab: lasso a cluster, it is queued; label it
at once from the card, and one undo takes the whole group back.

The data are three well separated blobs of table rows (keys ``s0``.. in the small one). The test
clicks the map's lasso button, drags a polygon round the small blob (its outline computed from the
map coordinates the kernel reports, turned into pixels by the plot's own scales), then reads the
kernel: the selection is exactly the blob's rows, and they come next in the line. On the card it
chooses "small" under "label all as", confirms, and checks the store: one group of ``bulk``
labels, one per unlabeled row of the blob; ``z`` on the card takes the group back.

The picture of the card beside the map is saved as ``map-beside-card.png`` in the artifacts and,
with ``ACTIVELABEL_UPDATE_SCREENSHOTS=1``, as docs/screenshots/map.png.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import statistics
import time

import pytest

from test_card_in_jupyter import KERNEL_TIMEOUT_MS, UI_TIMEOUT_MS, cell_output, open_notebook, run_cell, write_notebook
from test_hostile_records import card_in_cell

pytestmark = pytest.mark.browser

SMALL = 40

SETUP = f'''\
import json
import numpy as np, pandas as pd
from activelabel_widget import ActiveLabeler

rng = np.random.default_rng(0)
blobs = {{"s": ([-6, -6], 0.5, {SMALL}), "b": ([6, 6], 0.9, 300), "m": ([6, -6], 0.9, 160)}}
df = pd.concat([pd.DataFrame(rng.normal(center, spread, (n, 2)), columns=["width", "height"],
                             index=[f"{{name}}{{i}}" for i in range(n)]) for name, (center, spread, n) in blobs.items()])
al = ActiveLabeler(df, features=["width", "height"], labels=["small", "big", "medium"], store="map.db")
al.map.wait(120)
al.show_map()'''

WHERE = '''\
xy = al.map.frame()[["x", "y"]]
small = xy[xy.index.str.startswith("s")].to_numpy()
center = small.mean(axis=0)
radius = float(np.linalg.norm(small - center, axis=1).max())
print("BLOB=" + json.dumps({"center": center.tolist(), "radius": radius}))'''

READ = '''\
on_card = al.session.current
line = list(al.session.dataset.df.index[al.session.queued(%d)[1:]])
print("KERNEL=" + json.dumps({"selection": sorted(al.map.selection), "on_card": on_card, "next": line,
                              "labeled": len(al.labeled)}))''' % (SMALL + 1)

CANVAS = ".jp-Notebook .jp-OutputArea-output div[style*='inset'] > canvas:first-child"
_DRAWN_JS = """sel => { const c = document.querySelector(sel); const a = c && c.parentElement.parentElement.api;
                        return !!a && a.get('isPointsDrawn'); }"""
_TO_PIXELS_JS = """([sel, pts]) => { const c = document.querySelector(sel), api = c.parentElement.parentElement.api;
  const r = c.getBoundingClientRect(), xs = api.get('xScale').domain(), ys = api.get('yScale').domain();
  return pts.map(([x, y]) => [r.left + (x - xs[0]) / (xs[1] - xs[0]) * r.width,
                              r.top + (1 - (y - ys[0]) / (ys[1] - ys[0])) * r.height]); }"""


def run_cell_keeping_the_selection(page, index: int) -> None:
    """Run a cell without Escape: the scatter widget clears its selection on any Escape in the page."""
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def kernel_state(page, index: int) -> dict:
    run_cell_keeping_the_selection(page, index)
    return json.loads(cell_output(page, index, "KERNEL="))


def lasso(page, points) -> None:
    """Drag a closed polygon, one move per vertex with a pause (the lasso drops moves that come too fast)."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:] + points[:1]:
        page.mouse.move(x, y)
        page.wait_for_timeout(20)
    page.mouse.up()
    page.wait_for_timeout(500)


def map_shot(page, path):
    """The card and the map, as the cell shows them."""
    page.mouse.move(0, 0)
    page.locator(".jp-Notebook .jp-Cell").nth(0).locator(".jp-OutputArea-output").first.screenshot(
        path=str(path), animations="disabled")
    return path


def bulk_events(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT key, label, source, batch FROM events WHERE action = 'label' AND source = 'bulk'"
                            ).fetchall()


def test_a_lasso_on_the_map_queues_the_cluster_and_the_card_labels_it_as_one_undo_step(
        start_jupyter, page, artifacts, publish_screenshot):
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "map.ipynb", [SETUP, WHERE, READ, READ])
    open_notebook(page, server, nb)
    page.set_viewport_size({"width": 1400, "height": 900})
    run_cell(page, 0)
    card = card_in_cell(page, 0)
    card.locator(".al-label").first.wait_for(timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_function(_DRAWN_JS, arg=CANVAS, timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_timeout(1000)

    # the map renders beside the card, not under it
    canvas = page.locator(CANVAS)
    card_box, map_box = card.bounding_box(), canvas.bounding_box()
    assert map_box["x"] >= card_box["x"] + card_box["width"] - 1, (card_box, map_box)
    assert map_box["width"] >= 300 and map_box["height"] >= 300, map_box

    run_cell(page, 1)
    blob = json.loads(cell_output(page, 1, "BLOB="))
    (cx, cy), r = blob["center"], 1.8 * blob["radius"]
    outline = [[cx + r * math.cos(2 * math.pi * k / 24), cy + r * math.sin(2 * math.pi * k / 24)] for k in range(24)]

    # the map's own lasso button, then a drag round the small blob (placed by the plot's scales, in view)
    output = canvas.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea-output')]")
    lasso_button = output.locator("button[title*='asso' i], [aria-label*='asso' i]").first
    lasso_button.click()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    pixels = page.evaluate(_TO_PIXELS_JS, [CANVAS, outline])
    centre = page.evaluate(_TO_PIXELS_JS, [CANVAS, [blob["center"]]])[0]
    assert box["x"] < centre[0] < box["x"] + box["width"] and box["y"] < centre[1] < box["y"] + box["height"], \
        f"the blob is not in the map's view: {box} {centre}"  # the whole pool is in view at first
    # the outline stays on the canvas (a move off it would end the drag)
    pixels = [[min(max(x, box["x"] + 2), box["x"] + box["width"] - 2),
               min(max(y, box["y"] + 2), box["y"] + box["height"] - 2)] for x, y in pixels]
    lasso(page, pixels)

    bar = card.locator(".al-map-bar")
    bar.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
    assert card.locator(".al-map-text").inner_text() == f"{SMALL} records selected on the map: {SMALL} unlabeled, queued first"
    state = kernel_state(page, 2)
    small = sorted(f"s{i}" for i in range(SMALL))
    assert state["selection"] == small
    assert set(state["next"]) == set(small) - {state["on_card"]}, state  # exactly the blob comes next
    (artifacts / "map-kernel.json").write_text(json.dumps(state, indent=1))
    map_shot(page, artifacts / "map-selected.png")

    # label all of it from the card, after the confirmation
    bar.locator(".al-map-label", has_text="small").click()
    assert "Label 40 records \"small\" at once?" in bar.inner_text()
    bar.locator(".al-map-confirm").click()
    card.locator(".al-notice", has_text="Labeled 40 records").wait_for(timeout=KERNEL_TIMEOUT_MS)
    events = bulk_events(server.root / "map.db")
    assert sorted(key for key, *_ in events) == sorted(f"s:{key}" for key in small)  # the store's keys are typed
    assert {(label, source) for _, label, source, _ in events} == {("small", "bulk")}
    assert len({batch for *_, batch in events}) == 1 and events[0][3] is not None  # one group in the log
    assert "all labeled already" in bar.inner_text()
    page.wait_for_timeout(1500)  # the map redraws the labels (at most every quarter second here)
    publish_screenshot(map_shot(page, artifacts / "map-beside-card.png"), "map.png")

    # one undo on the card takes the whole group back
    card.locator(".al-progress").click()
    page.keyboard.press("z")
    page.wait_for_function("bar => bar.textContent.includes('40 unlabeled')", arg=bar.element_handle(),
                           timeout=KERNEL_TIMEOUT_MS)
    assert kernel_state(page, 3)["labeled"] == 0


# -- the map at scale (benchmarks/map_speed.py runs it; skipped in the suite) ----------------------

LOAD_ROWS = int(os.environ.get("ACTIVELABEL_MAP_ROWS", "0"))

LOAD_SETUP = f"""\
import json, time
import numpy as np, pandas as pd
from activelabel_widget import ActiveLabeler

def rss_mb():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields["VmRSS"].split()[0]) / 1024

rng = np.random.default_rng(0)
centres = rng.normal(0, 6, (12, 16))
df = pd.DataFrame(centres[rng.integers(0, 12, {LOAD_ROWS})] + rng.normal(0, 1, ({LOAD_ROWS}, 16)),
                  columns=[f"f{{i}}" for i in range(16)])
al = ActiveLabeler(df, labels=["a", "b", "c"], store="map_load.db")
al.session.wait_idle(600)
before_mb = rss_mb()
print("READY=" + json.dumps({{"rss_mb": before_mb}}))
al"""

LOAD_MAP = """\
started = time.time()
m = al.map
m.wait(900)
projected = time.time() - started
print("MAP=" + json.dumps({"started": started, "projected_s": projected, "rss_mb": rss_mb(), "before_mb": before_mb}))
m"""

LOAD_LABEL = """\
for key in al.session.dataset.df.index[:30]:
    al.session.label(key, "abc"[key % 3])
labeled_at = time.time()
print("LABELED=" + json.dumps({"at": labeled_at, "rss_mb": rss_mb()}))"""

_MAP_DRAWN_JS = """() => { const c = document.querySelector(".jp-OutputArea-output div[style*='inset'] > canvas:first-child");
                         const a = c && c.parentElement.parentElement.api; return !!a && a.get('isPointsDrawn'); }"""

_FRAMES_JS = """() => { window.__frames = []; window.__loaf = [];
  try { new PerformanceObserver(list => window.__loaf.push(...list.getEntries().map(e => e.duration)))
          .observe({type: 'long-animation-frame', buffered: false}); } catch (e) {}
  const tick = t => { window.__frames.push(t); if (!window.__stopFrames) requestAnimationFrame(tick); };
  window.__stopFrames = false; requestAnimationFrame(tick); }"""


@pytest.mark.skipif(LOAD_ROWS <= 0, reason="the map at scale runs from benchmarks/map_speed.py")
def test_the_map_at_scale(start_jupyter, page, artifacts):
    """Time until the map is drawn, frame times while panning, the kernel's memory and the bytes sent."""
    server = start_jupyter("lab")
    nb = write_notebook(server.root, "map_load.ipynb", [LOAD_SETUP, LOAD_MAP, LOAD_LABEL])
    received = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append((time.time(), len(payload)))))
    open_notebook(page, server, nb)
    page.set_viewport_size({"width": 1400, "height": 900})
    run_cell(page, 0)
    ready = json.loads(cell_output(page, 0, "READY="))

    run_cell(page, 1)
    clicked = time.time()
    page.wait_for_function(_MAP_DRAWN_JS, timeout=1_800_000, polling=50)
    drawn = time.time()
    shown = json.loads(cell_output(page, 1, "MAP="))
    map_bytes = sum(size for at, size in received if clicked <= at <= drawn + 0.5)

    # pan: drag across the map in small steps while the page counts its frames
    canvas = page.locator(CANVAS)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.wait_for_timeout(1000)
    page.evaluate(_FRAMES_JS)
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(60):
        page.mouse.move(x0 + 80 * math.sin(step / 6), y0 + 60 * math.cos(step / 6))
        page.wait_for_timeout(16)
    page.mouse.up()
    frames, loaf = page.evaluate("() => { window.__stopFrames = true; return [window.__frames, window.__loaf]; }")
    intervals = [b - a for a, b in zip(frames, frames[1:])]

    before_label = time.time()
    run_cell(page, 2)
    labeled = json.loads(cell_output(page, 2, "LABELED="))
    page.wait_for_timeout(4000 + LOAD_ROWS / 250)  # the map's next redraw after labels
    redraw_bytes = sum(size for at, size in received if at >= before_label)

    figures = {
        "rows": LOAD_ROWS,
        "until_drawn_s": drawn - clicked,
        "projection_s": shown["projected_s"],
        "frame_median_ms": statistics.median(intervals),
        "frame_p95_ms": sorted(intervals)[int(0.95 * (len(intervals) - 1))],
        "frames": len(intervals),
        "long_frames": len(loaf),
        "kernel_rss_before_mb": ready["rss_mb"],
        "kernel_rss_map_mb": shown["rss_mb"],
        "kernel_rss_after_labels_mb": labeled["rss_mb"],
        "bytes_to_draw": map_bytes,
        "bytes_per_redraw": redraw_bytes,
    }
    (artifacts / "map_load.json").write_text(json.dumps(figures, indent=1))


HOSTILE = "<img src=x onerror=window.__pwned=1> crash when saving"

HOVER_SETUP = f'''\
import pandas as pd
from activelabel_widget import ActiveLabeler

texts = [f"review number {{i}} of a film" for i in range(60)]
texts[5] = {HOSTILE!r}
al = ActiveLabeler(pd.DataFrame({{"text": texts}}), text="text", labels=["bug", "other"], store="hover.db")
al.map.wait(120)
al.show_map()'''

_TOOLTIP_JS = """sel => { const c = document.querySelector(sel); const box = c.parentElement.parentElement;
  const tip = [...box.querySelectorAll('div')].find(e => e.style.pointerEvents === 'none' && e.style.borderRadius === '0.2rem'
                                                     && e.style.opacity === '1');
  return tip && tip.textContent.includes('crash when saving')
    ? { text: tip.textContent, images: tip.querySelectorAll('img').length } : null; }"""


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_hovering_a_point_shows_its_record_as_text_on_the_themes_background(theme, start_jupyter, page, artifacts):
    server = start_jupyter("lab", settings={"@jupyterlab/apputils-extension:themes": {"theme": theme}})
    open_notebook(page, server, write_notebook(server.root, "hover.ipynb", [HOVER_SETUP]))
    page.set_viewport_size({"width": 1400, "height": 900})
    run_cell(page, 0)
    page.wait_for_function(_DRAWN_JS, arg=CANVAS, timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_timeout(1000)
    canvas = page.locator(CANVAS)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = page.evaluate("sel => document.querySelector(sel).parentElement.parentElement.api.getScreenPosition(5)", CANVAS)
    page.mouse.move(box["x"] + x, box["y"] + y)
    tip = page.wait_for_function(_TOOLTIP_JS, arg=CANVAS, timeout=20_000).json_value()  # the text comes from the kernel
    name = "map-hover-" + theme.split()[-1].lower()
    page.screenshot(path=str(artifacts / f"{name}.png"))
    assert HOSTILE in tip["text"] and "unlabeled" in tip["text"], tip
    assert tip["images"] == 0
    assert page.evaluate("() => window.__pwned") is None

    # the map draws on the card's background: a dark theme gets a dark map
    from PIL import Image, ImageStat

    page.mouse.move(0, 0)
    page.wait_for_timeout(1500)
    shot = artifacts / f"{name}-map.png"
    canvas.screenshot(path=str(shot))
    image = Image.open(shot).convert("L")
    corner = image.crop((image.width - 40, image.height - 40, image.width - 5, image.height - 5))  # no points there
    brightness = ImageStat.Stat(corner).mean[0]
    assert (brightness < 80) if theme.endswith("Dark") else (brightness > 200), (theme, brightness)
