// @vitest-environment jsdom
// A card whose kernel is gone, the model's status while it prepares, weak suggestions, wide
// records and what the strategies do.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DEAD_DETAIL, DEAD_TITLE, HOLD_RECORDS, accuracyText, fieldCountText, isWeak, modelStatusText, moreFieldsText, rowsBelow,
  statusProgress, strategyDescriptions, unsavedText,
} from "../card.js";
import widget, { commIsGone } from "../widget.js";
import { keymapRows } from "../keys.js";
import { FakeModel, core, labelButton, listenLikeTheNotebooks, press, textCard, upcomingRecord } from "./fake-model.js";

let mounted = [];
let warn;

beforeEach(() => {
  URL.createObjectURL = vi.fn(() => "blob:card/1");
  URL.revokeObjectURL = vi.fn();
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});

afterEach(() => {
  for (const { cleanup, host } of mounted) {
    cleanup();
    host.remove();
  }
  mounted = [];
  warn.mockRestore();
  delete URL.createObjectURL;
  delete URL.revokeObjectURL;
});

function mount(state = {}, { model = new FakeModel(state), host = document.createElement("div") } = {}) {
  document.body.appendChild(host);
  const cleanup = widget.render({ model, el: host });
  mounted.push({ cleanup, host });
  return { model, el: host, root: host.querySelector(".al-card"), cleanup };
}


function expectDead(root, unsaved = 0) {
  const banner = root.querySelector(".al-dead");
  expect(banner.hidden).toBe(false);
  expect(banner.getAttribute("role")).toBe("alert");
  expect(banner.textContent).toBe(`${DEAD_TITLE} ${DEAD_DETAIL}${unsavedText(unsaved)}`);
  expect(root.classList.contains("al-card-dead")).toBe(true);
  expect(root.getAttribute("aria-disabled")).toBe("true");
  const controls = [...root.querySelectorAll("button, select")];
  expect(controls.length).toBeGreaterThan(5);
  expect(controls.filter((c) => !c.disabled)).toEqual([]);
  expect(root.querySelector(".al-focus-hint").hidden).toBe(true);
}

function expectAlive(root) {
  expect(root.querySelector(".al-dead").hidden).toBe(true);
  expect(root.classList.contains("al-card-dead")).toBe(false);
  expect(root.hasAttribute("aria-disabled")).toBe(false);
}

describe("a card whose kernel is gone", () => {
  it("is alive and says nothing about a kernel while sends go through", () => {
    const { root } = mount();
    expectAlive(root);
    expect([...root.querySelectorAll(":not([hidden])")].filter((n) => !n.closest("[hidden]") && /kernel/.test(n.textContent)))
      .toEqual([]);
  });

  it("says so when a send throws, instead of an uncaught error", () => {
    const { root, model } = mount({ suggestion: { label: "bug", confidence: 0.9 } });
    model.killKernel();
    expect(() => press(root, "1")).not.toThrow();
    expectDead(root);
    expect(model.sent).toEqual([]);
    expect(warn).toHaveBeenCalled();
    // the record is still there, dimmed, so the user sees which card this was
    expect(root.querySelector(".al-text").textContent).toBe("The app crashes when I open settings.");
  });

  it("lets every later key through to the notebook and sends nothing", () => {
    const { root, model } = mount({ suggestion: { label: "bug", confidence: 0.9 } });
    model.killKernel();
    press(root, "s");
    const send = vi.spyOn(model, "send");
    const notebook = listenLikeTheNotebooks();
    const events = ["1", "2", "s", "z", "Backspace", "r", "Enter", "i", "?", "x", "Escape"].map((key) => press(root, key));
    notebook.stop();
    expect(send).not.toHaveBeenCalled();
    expect(events.some((e) => e.defaultPrevented)).toBe(false);
    expect(notebook.capture).toHaveBeenCalledTimes(events.length);
    expect(notebook.bubble).toHaveBeenCalledTimes(events.length);
    // the key map and insights no longer open either
    expect(root.querySelector(".al-keymap").hidden).toBe(true);
    expect(root.querySelector(".al-insights").hidden).toBe(true);
  });

  it("says so when a click's send throws, and closes the open panels", () => {
    const { root, model } = mount();
    press(root, "?");
    expect(root.querySelector(".al-keymap").hidden).toBe(false);
    model.killKernel();
    labelButton(root, "feature").click();
    expectDead(root);
    expect(root.querySelector(".al-keymap").hidden).toBe(true);
    const send = vi.spyOn(model, "send");
    labelButton(root, "bug").click(); // disabled: no click event
    root.querySelector("select").dispatchEvent(new Event("change", { bubbles: true }));
    expect(send).not.toHaveBeenCalled();
  });

  it("stays dead when new state arrives and redraws (buttons drawn anew are disabled too)", () => {
    const { root, model } = mount();
    model.killKernel();
    press(root, "1");
    model.set("labels", ["a", "b"]);
    model.set("card", textCard({ token: 2 }));
    expectDead(root);
  });

  it("turns dead as soon as the widget framework says the model lost its kernel", () => {
    const { root, model } = mount();
    model.comm_live = false;
    model.emit("comm_live_update");
    expectDead(root);
    expect(model.sent).toEqual([]);
  });

  it("stays alive when the framework says the link is live", () => {
    const { root, model } = mount();
    model.comm_live = true;
    model.emit("comm_live_update");
    expectAlive(root);
  });

  it("reads the disconnected mark the framework puts on the view when comm_live is not exposed", () => {
    const { root, model, el } = mount();
    el.classList.add("jupyter-widgets-disconnected");
    model.emit("comm_live_update");
    expectDead(root);
  });

  it("takes the event alone as the link gone when the model does not expose comm_live (the anywidget proxy)", () => {
    // ipywidgets sets comm_live true when it creates a model, before any view, and fires the
    // event after that only when it disconnects the models (kernel restarting or dead)
    const { root, model } = mount();
    expect("comm_live" in model).toBe(false);
    model.emit("comm_live_update");
    expectDead(root);
  });

  it("is alive when drawn for a model that does not say whether its link is live", () => {
    const { root } = mount();
    expectAlive(root);
  });

  it("turns dead when the comm closes", () => {
    const { root, model } = mount();
    model.emit("comm:close");
    expectDead(root);
  });

  it("is dead from the start when drawn for a model already cut off from its kernel", () => {
    const model = new FakeModel();
    model.comm_live = false;
    const { root } = mount({}, { model });
    expectDead(root);
  });

  it("tells gone, live and unknown apart", () => {
    const el = document.createElement("div");
    expect(commIsGone({ comm_live: false }, el)).toBe(true);
    expect(commIsGone({ comm_live: true }, el)).toBe(false);
    expect(commIsGone({}, el)).toBe(null);
    const outer = document.createElement("div");
    outer.className = "jupyter-widgets-disconnected";
    outer.appendChild(el);
    expect(commIsGone({}, el)).toBe(true);
  });

  it("stops listening for the comm events once cleaned up", () => {
    const { model, cleanup } = mount();
    cleanup();
    mounted = [];
    expect(model.listenerCount()).toBe(0);
  });
});

describe("the model's status", () => {
  it("says what is being prepared and how far, and keeps training's own message", () => {
    const message = "building the embedding index: 40% of 200,880 rows · label meanwhile: records come in random order";
    expect(modelStatusText({ state: "preparing", message, progress: 0.4 })).toBe(`model: preparing… · ${message}`);
    expect(modelStatusText({ state: "preparing" })).toBe("model: preparing…");
    expect(modelStatusText({ state: "training", message: "" })).toBe("model: training…");
    expect(modelStatusText({ state: "training", message: "the previous model suggests meanwhile" }))
      .toBe("model: training… · the previous model suggests meanwhile");
    // a message that already says it trains is not said twice
    expect(modelStatusText({ state: "training", message: "training on 120 labels… 40% done · the previous model suggests meanwhile" }))
      .toBe("model: training on 120 labels… 40% done · the previous model suggests meanwhile");
  });

  it("never shows two states' messages at once", () => {
    const words = /none yet|preparing|training|CV accuracy|fitted|error/g;
    const cases = [
      [{ state: "ready", accuracy: 0.8, n_labels: 30, message: "training on 30 labels…" }, ["CV accuracy"]],
      [{ state: "ready", accuracy: null, n_labels: 3, message: "preparing" }, ["fitted"]],
      [{ state: "preparing", message: "computing features for 5,000 rows (10% done)", accuracy: 0.7 }, ["preparing"]],
      [{ state: "training", message: "", accuracy: 0.7, n_labels: 12 }, ["training"]],
      [{ state: "error", message: "only one class labeled (no model yet)", accuracy: 0.7 }, ["error"]],
      [{ state: "none", message: "label two examples each of two labels to start training" }, ["none yet", "training"]],
    ];
    for (const [status, expected] of cases) {
      expect(modelStatusText(status).match(words)).toEqual(expected);
    }
  });

  it("has progress only while preparing or training and only when it is a number", () => {
    expect(statusProgress({ state: "preparing", progress: 0.4 })).toBe(0.4);
    expect(statusProgress({ state: "preparing", progress: 1.7 })).toBe(1);
    expect(statusProgress({ state: "preparing", progress: null })).toBe(null);
    expect(statusProgress({ state: "preparing" })).toBe(null);
    expect(statusProgress({ state: "preparing", progress: "x" })).toBe(null);
    expect(statusProgress({ state: "training", progress: 0.5 })).toBe(0.5);
    expect(statusProgress({ state: "ready", progress: 0.4 })).toBe(null);
    expect(statusProgress(undefined)).toBe(null);
  });

  it("draws a progress bar while preparing and removes it once the model is ready", () => {
    const { root, model } = mount();
    const status = root.querySelector(".al-status");
    const bar = status.querySelector("[role=progressbar]");
    expect(bar.hidden).toBe(true);
    const message = "building the embedding index for 200,880 rows (40% done) · label meanwhile: records come in random order until this is ready";
    model.set("model_status", { state: "preparing", message, accuracy: null, n_labels: 0, fits: 0, progress: 0.4 });
    expect(status.textContent).toBe(`model: preparing… · ${message}`);
    expect(status.classList.contains("al-status-preparing")).toBe(true);
    expect(bar.hidden).toBe(false);
    expect(bar.getAttribute("aria-valuenow")).toBe("40");
    expect(bar.querySelector(".al-status-fill").style.width).toBe("40%");
    model.set("model_status", { state: "preparing", message, accuracy: null, n_labels: 0, fits: 0, progress: null });
    expect(bar.hidden).toBe(true);
    model.set("model_status", { state: "preparing", message, accuracy: null, n_labels: 0, fits: 0, progress: 0.9 });
    expect(bar.getAttribute("aria-valuenow")).toBe("90");
    model.set("model_status", { state: "ready", message: "80% cross-validated accuracy on 30 labels", accuracy: 0.8, n_labels: 30, fits: 1, progress: null });
    expect(status.textContent).toBe("model: 80% CV accuracy on 30 labels");
    expect(bar.hidden).toBe(true);
    expect(bar.hasAttribute("aria-valuenow")).toBe(false);
  });
});

describe("weak suggestions", () => {
  const weak = { label: "bug", confidence: 0.1234, weak: true, accuracy: 0.642 };
  const strong = { label: "feature", confidence: 0.91, weak: false, accuracy: 0.912 };

  it("formats the model's accuracy next to the confidence", () => {
    expect(accuracyText(0.642)).toBe("model 64% accurate");
    expect(accuracyText(1)).toBe("model 100% accurate");
    expect(accuracyText(null)).toBe("");
    expect(accuracyText(undefined)).toBe("");
    expect(accuracyText("n/a")).toBe("");
  });

  it("counts only weak === true as weak", () => {
    expect(isWeak(weak)).toBe(true);
    expect(isWeak(strong)).toBe(false);
    expect(isWeak({ label: "bug", weak: "false" })).toBe(false);
    expect(isWeak({ weak: true })).toBe(false); // nothing suggested
  });

  it("looks weak: a weak tag, muted and dashed, with the model's accuracy beside the confidence", () => {
    const { root } = mount({ suggestion: weak });
    const slot = root.querySelector(".al-suggestion");
    expect(slot.textContent).toBe("Suggestion: bug weak · confidence 0.12 · model 64% accurate — Enter twice to accept");
    expect(slot.classList.contains("al-suggestion-weak")).toBe(true);
    const tag = slot.querySelector(".al-tag-weak");
    expect(tag.textContent).toBe("weak");
    expect(tag.getAttribute("title")).toMatch(/unsure/);
    const button = labelButton(root, "bug");
    expect(button.classList.contains("al-suggested")).toBe(true);
    expect(button.classList.contains("al-suggested-weak")).toBe(true);
  });

  it("keeps a strong suggestion's style and shows the accuracy when known", () => {
    const { root, model } = mount({ suggestion: weak });
    model.set("suggestion", strong);
    const slot = root.querySelector(".al-suggestion");
    expect(slot.textContent).toBe("Suggestion: feature · confidence 0.91 · model 91% accurate — Enter to accept");
    expect(slot.classList.contains("al-suggestion-weak")).toBe(false);
    expect(slot.querySelector(".al-tag-weak")).toBeNull();
    expect(labelButton(root, "feature").classList.contains("al-suggested-weak")).toBe(false);
    expect(labelButton(root, "feature").classList.contains("al-suggested")).toBe(true);
    model.set("suggestion", { label: "feature", confidence: 0.91, weak: false, accuracy: null });
    expect(slot.textContent).toBe("Suggestion: feature · confidence 0.91 — Enter to accept");
  });

  it("accepts a weak suggestion only when Enter is pressed a second time on the same record", () => {
    const { root, model } = mount({ suggestion: weak, upcoming: [upcomingRecord(7, { suggestion: weak })] });
    press(root, "Enter");
    expect(model.sent).toEqual([]);
    expect(root.querySelector(".al-notice").textContent).toMatch(/^Weak suggestion \(bug, confidence 0\.\d\d\): press Enter again/);
    press(root, "Enter");
    expect(model.sent.map(core)).toEqual([{ action: "accept", key: "i:42", token: 1, label: "bug" }]);
    expect(root.querySelector(".al-notice").hidden).toBe(true);
    press(root, "Enter"); // the next record's weak suggestion asks again
    expect(model.sent.length).toBe(1);
    press(root, "1"); // a label key answers at once
    expect(model.sent.map((m) => m.action)).toEqual(["accept", "label"]);
  });

  it("asks again when a fit changes the weak suggestion between the two Enters", () => {
    const { root, model } = mount({ suggestion: weak, upcoming: [upcomingRecord(7, { suggestion: weak })] });
    press(root, "Enter");
    model.set("suggestion", { ...weak, label: "feature" }); // the same card, a new model's suggestion
    press(root, "Enter");
    expect(model.sent).toEqual([]);
    expect(root.querySelector(".al-notice").textContent).toMatch(/^Weak suggestion \(feature, /);
    press(root, "Enter");
    expect(model.sent.map(core)).toEqual([{ action: "accept", key: "i:42", token: 1, label: "feature" }]);
  });
});

describe("the record's height from one record to the next", () => {
  /** A ResizeObserver the test reports sizes to, as the browser does after its layout. */
  let observers;
  beforeEach(() => {
    observers = [];
    window.ResizeObserver = class {
      constructor(callback) {
        this.callback = callback;
        this.targets = new Set();
        observers.push(this);
      }
      observe(target) {
        this.targets.add(target);
        // a browser reports a target's size once after it starts observing it, changed or not
        this.fresh = true;
      }
      unobserve(target) { this.targets.delete(target); }
      disconnect() { this.targets.clear(); }
    };
  });
  afterEach(() => {
    delete window.ResizeObserver;
  });

  /**
   * A layout at which the record's size did not change: the browser reports it only to an observer
   * that started observing since the last report.
   */
  function laidOutUnchanged(root, width, height) {
    const record = root.querySelector(".al-record");
    for (const observer of observers.filter((o) => o.targets.has(record) && o.fresh)) {
      observer.fresh = false;
      observer.callback([{ target: record, contentRect: { width, height } }]);
    }
  }

  /** The browser laid the record out at `width` x `height` (its content box). */
  function laidOut(root, width, height) {
    const record = root.querySelector(".al-record");
    for (const observer of observers.filter((o) => o.targets.has(record))) {
      observer.fresh = false;
      observer.callback([{ target: record, contentRect: { width, height } }]);
    }
  }

  it("keeps the tallest height it had, so the suggestion and the buttons below stay where they were", () => {
    const { root, model } = mount({ card: textCard({ text: "a long record\nover\nfour\nlines" }) });
    const record = root.querySelector(".al-record");
    laidOut(root, 600, 120);
    expect(record.style.minHeight).toBe("120px");
    model.set("card", textCard({ token: 2, key: "i:43", text: "short" }));
    laidOut(root, 600, 120); // held: the short record is as tall as the long one was
    expect(record.style.minHeight).toBe("120px");
    model.set("card", textCard({ token: 3, key: "i:44", text: "taller still" }));
    laidOut(root, 600, 150);
    expect(record.style.minHeight).toBe("150px");
    laidOut(root, 400, 150); // the card got narrower: the text wraps anew, the height held is let go
    expect(record.style.minHeight).toBe("");
    laidOut(root, 400, 90); // and learnt again from the next layout
    expect(record.style.minHeight).toBe("90px");
  });

  it(`lets a long record's height go ${HOLD_RECORDS} records after it, so one long record leaves no gap under every record after it`, () => {
    const { root, model } = mount({ card: textCard({ text: "a synopsis of 3,000 characters" }) });
    const record = root.querySelector(".al-record");
    laidOut(root, 600, 350);
    for (let i = 1; i < HOLD_RECORDS; i += 1) {
      model.set("card", textCard({ token: 1 + i, key: `i:${100 + i}`, text: "one line" }));
      expect(record.style.minHeight).toBe("350px"); // the buttons stay put for the next few
    }
    model.set("card", textCard({ token: 99, key: "i:199", text: "one line" }));
    expect(record.style.minHeight).toBe(""); // then let go, and learnt from the record on screen
    laidOutUnchanged(root, 600, 40);
    expect(record.style.minHeight).toBe("40px");
    // a taller record raises the height and starts the count again
    model.set("card", textCard({ token: 100, key: "i:200", text: "two\nlines" }));
    laidOut(root, 600, 60);
    for (let i = 1; i < HOLD_RECORDS; i += 1) {
      model.set("card", textCard({ token: 100 + i, key: `i:${200 + i}`, text: "one line" }));
      expect(record.style.minHeight).toBe("60px");
    }
    // the same record drawn again (a new suggestion for it) is not a new record
    model.set("card", textCard({ token: 150, key: `i:${200 + HOLD_RECORDS - 1}`, text: "one line", suggestion: { label: "a", confidence: 0.9 } }));
    expect(record.style.minHeight).toBe("60px");
  });

  it("gives the room back while a record is open in full, and after it", () => {
    const long = "word ".repeat(400);
    const { root, model } = mount({ card: textCard({ text: long }) });
    const record = root.querySelector(".al-record");
    laidOut(root, 600, 200);
    expect(record.style.minHeight).toBe("200px");
    root.querySelector(".al-more").click(); // show more: the record opens in full
    expect(record.style.minHeight).toBe("");
    laidOut(root, 600, 900);
    expect(record.style.minHeight).toBe(""); // not held open
    model.set("card", textCard({ token: 2, key: "i:43", text: "short" }));
    laidOut(root, 600, 40);
    expect(record.style.minHeight).toBe("40px"); // learnt again from the next record
  });

  it.each([["i", "insights"], ["?", "keys"]])("gives the room back while the %s panel (%s) is open, so the panel stays in the window", (key) => {
    const { root, model } = mount({ card: textCard({ text: "a long record\nover\nfour\nlines" }) });
    const record = root.querySelector(".al-record");
    laidOut(root, 600, 120);
    expect(record.style.minHeight).toBe("120px");
    press(root, key); // the panel opens
    expect(record.style.minHeight).toBe("");
    model.set("card", textCard({ token: 2, key: "i:43", text: "short" }));
    laidOut(root, 600, 40);
    expect(record.style.minHeight).toBe(""); // not held while the panel is open
    press(root, key); // closed: held again, from the record on screen although its size did not change
    laidOutUnchanged(root, 600, 40);
    expect(record.style.minHeight).toBe("40px");
  });

  it("learns the height anew after the width changed, even when the record's size did not change then", () => {
    const frames = [];
    const raf = window.requestAnimationFrame;
    window.requestAnimationFrame = (callback) => frames.push(callback);
    try {
      const { root } = mount({ card: textCard({ text: "a long record\nover\nfour\nlines" }) });
      const record = root.querySelector(".al-record");
      laidOut(root, 600, 120);
      laidOut(root, 400, 120); // narrower: let go, and the text at this width is as tall as what was held
      expect(record.style.minHeight).toBe("");
      frames.splice(0).forEach((callback) => callback());
      laidOutUnchanged(root, 400, 120);
      expect(record.style.minHeight).toBe("120px");
    } finally {
      window.requestAnimationFrame = raf;
    }
  });

  it("holds no height on the card that says every record is labeled", () => {
    const { root, model } = mount({ card: textCard({ text: "a record" }) });
    const record = root.querySelector(".al-record");
    laidOut(root, 600, 120);
    model.set("card", { token: 9, key: "", key_label: "", kind: "done", text: "All 10 records are labeled" });
    expect(record.style.minHeight).toBe("");
  });
});

describe("wide and long records", () => {
  const thirty = Array.from({ length: 30 }, (_, i) => [`column_${i + 1}`, `value ${i + 1}`]);

  /** Lay a field box out as a browser would: 28 px rows in a 360 px box scrolled to `top`. */
  function layOut(box, { rowHeight = 28, height = 360, top = 0 } = {}) {
    const rows = [...box.querySelectorAll("tr")];
    Object.defineProperty(box, "clientHeight", { configurable: true, get: () => height });
    Object.defineProperty(box, "scrollHeight", { configurable: true, get: () => rows.length * rowHeight });
    box.getBoundingClientRect = () => ({ top: 0, bottom: height, left: 0, right: 500, width: 500, height });
    rows.forEach((tr, i) => {
      tr.getBoundingClientRect = () => ({ top: i * rowHeight - top, bottom: (i + 1) * rowHeight - top });
    });
    box.dispatchEvent(new Event("scroll"));
  }

  it("counts rows out of view below", () => {
    expect(rowsBelow([28, 56, 84, 112], 60)).toBe(2);
    expect(rowsBelow([28, 56], 60)).toBe(0);
    expect(rowsBelow([60.5], 60)).toBe(0); // within a pixel: in view
    expect(fieldCountText(30)).toBe("30 fields");
    expect(fieldCountText(1)).toBe("1 field");
    expect(fieldCountText(1200)).toBe("1,200 fields");
    expect(moreFieldsText(17)).toBe("scroll for 17 more");
    expect(moreFieldsText(0)).toBe("");
  });

  it("puts every one of 30 columns in the fields box and says how many there are", () => {
    const { root } = mount({ card: textCard({ kind: "table", text: "", fields: thirty }) });
    const box = root.querySelector(".al-body .al-table-wrap");
    expect([...box.querySelectorAll("th")].map((th) => th.textContent)).toEqual(thirty.map(([name]) => name));
    expect(root.querySelector(".al-body .al-fields-count").textContent).toBe("30 fields");
    // before layout nothing is known to be clipped: no hint, no toggle
    expect(root.querySelector(".al-body .al-fields-more").hidden).toBe(true);
    expect(root.querySelector(".al-body .al-fields-toggle").hidden).toBe(true);
  });

  it("says how many rows are out of view, counts down as the box scrolls, and offers show all", () => {
    const { root } = mount({ card: textCard({ kind: "table", text: "", fields: thirty }) });
    const box = root.querySelector(".al-body .al-table-wrap");
    const more = root.querySelector(".al-body .al-fields-more");
    const toggle = root.querySelector(".al-body .al-fields-toggle");
    const fieldbox = root.querySelector(".al-body .al-fieldbox");
    layOut(box); // rows 1..12 wholly in view (12 * 28 = 336 <= 360), 18 below
    // no scrollbar of the browser's own (offsetWidth == clientWidth): the card draws where the view is
    const rail = fieldbox.querySelector(".al-scroll-cue");
    expect(rail.hidden).toBe(false);
    expect(rail.getAttribute("aria-hidden")).toBe("true");
    expect(rail.style.height).toBe("360px");
    expect(rail.querySelector(".al-scroll-thumb").style.height).toBe("154px"); // 360 * 360 / 840
    expect(rail.querySelector(".al-scroll-thumb").style.top).toBe("0px");
    expect(more.hidden).toBe(false);
    expect(more.textContent).toBe("scroll for 18 more");
    expect(fieldbox.classList.contains("al-more-below")).toBe(true);
    expect(toggle.hidden).toBe(false);
    expect(toggle.textContent).toBe("show all");
    layOut(box, { top: 460 });
    expect(more.textContent).toBe("scroll for 1 more");
    layOut(box, { top: 840 - 360 }); // scrolled to the end
    Object.defineProperty(box, "scrollTop", { configurable: true, get: () => 480 });
    box.dispatchEvent(new Event("scroll"));
    expect(rail.querySelector(".al-scroll-thumb").style.top).toBe("206px"); // at the bottom of the rail
    expect(more.hidden).toBe(true);
    expect(fieldbox.classList.contains("al-more-below")).toBe(false);
    expect(toggle.hidden).toBe(false); // still clipped: show all stays
  });

  it("draws the next record's box of the same columns as the last one was measured, before any layout", () => {
    const { root, model } = mount({ card: textCard({ kind: "table", text: "", fields: thirty }) });
    const first = root.querySelector(".al-body .al-table-wrap");
    layOut(first);
    // scrolled down to one row out of view: the next box starts at the top all the same
    let scrollTop = 460;
    Object.defineProperty(first, "scrollTop", { configurable: true, get: () => scrollTop, set: (y) => { scrollTop = y; } });
    layOut(first, { top: 460 });
    expect(root.querySelector(".al-body .al-fields-more").textContent).toBe("scroll for 1 more");
    // the next record: other values, the same columns, in the same box, scrolled back to its top.
    // Measuring it again (after the frame's layout) would then change nothing, so the frame that
    // shows it lays it out once.
    const next = thirty.map(([name], i) => [name, String(1000 + i)]);
    model.set("card", textCard({ token: 2, key: "i:43", kind: "table", text: "", fields: next }));
    const more = root.querySelector(".al-body .al-fields-more");
    expect(root.querySelector(".al-body .al-table-wrap")).toBe(first);
    expect(first.scrollTop).toBe(0);
    expect(root.querySelector(".al-body td").textContent).toBe("1000");
    expect(more.hidden).toBe(false);
    expect(more.textContent).toBe("scroll for 18 more");
    expect(root.querySelector(".al-body .al-fields-toggle").hidden).toBe(false);
    // other columns: nothing is known before layout
    const other = thirty.map(([name, value]) => [`other ${name}`, value]);
    model.set("card", textCard({ token: 3, key: "i:44", kind: "table", text: "", fields: other }));
    expect(root.querySelector(".al-body .al-table-wrap")).not.toBe(first);
    expect(root.querySelector(".al-body .al-fields-more").hidden).toBe(true);
    expect(root.querySelector(".al-body .al-fields-toggle").hidden).toBe(true);
  });

  it("observes a box that took the next record's values anew, so the browser reports it after the next layout (they may wrap onto other lines)", () => {
    const observed = [];
    window.ResizeObserver = class {
      observe(target) { observed.push(target); }
      unobserve() {}
      disconnect() {}
    };
    try {
      const { root, model } = mount({ card: textCard({ kind: "table", text: "", fields: thirty }) });
      const table = root.querySelector(".al-body .al-table");
      const times = () => observed.filter((target) => target === table).length;
      expect(times()).toBe(1);
      const next = thirty.map(([name], i) => [name, `a longer value that wraps ${i}`]);
      model.set("card", textCard({ token: 2, key: "i:43", kind: "table", text: "", fields: next }));
      expect(root.querySelector(".al-body .al-table")).toBe(table);
      expect(times()).toBe(2); // observed anew: the browser reports its size after the next layout
    } finally {
      delete window.ResizeObserver;
    }
  });

  it("shows the next record's values from the top when a key comes before the scroll's own event", () => {
    const { root, model } = mount({ card: textCard({ kind: "table", text: "", fields: thirty }) });
    const box = root.querySelector(".al-body .al-table-wrap");
    layOut(box); // measured at the top
    let scrollTop = 0;
    Object.defineProperty(box, "scrollTop", { configurable: true, get: () => scrollTop, set: (y) => { scrollTop = y; } });
    box.dispatchEvent(new Event("wheel")); // the wheel moves the box; its scroll event would come with the next frame
    scrollTop = 460;
    const next = thirty.map(([name], i) => [name, String(2000 + i)]);
    model.set("card", textCard({ token: 2, key: "i:43", kind: "table", text: "", fields: next }));
    expect(root.querySelector(".al-body .al-table-wrap")).toBe(box);
    expect(scrollTop).toBe(0);
    // a key that does not scroll (the card's own keys never reach the box): no write for the next record
    let writes = 0;
    Object.defineProperty(box, "scrollTop", { configurable: true, get: () => 0, set: () => { writes += 1; } });
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Tab", bubbles: true }));
    model.set("card", textCard({ token: 3, key: "i:44", kind: "table", text: "", fields: thirty }));
    expect(writes).toBe(0);
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "PageDown", bubbles: true }));
    model.set("card", textCard({ token: 4, key: "i:45", kind: "table", text: "", fields: next }));
    expect(writes).toBe(1);
  });

  it("shows each record's own values when records of other kinds come between", () => {
    const values = (n) => thirty.map(([name], i) => [name, String(n + i)]);
    const { root, model } = mount({ card: textCard({ kind: "table", text: "", fields: values(100) }) });
    const cells = () => [...root.querySelectorAll(".al-body td")].map((td) => td.textContent);
    model.set("card", textCard({ token: 2, key: "i:43", text: "a text record", fields: [["source", "web"]] }));
    expect(root.querySelector(".al-body .al-table-wrap")).toBe(null);
    expect(root.querySelector(".al-body").textContent).toContain("a text record");
    expect([...root.querySelectorAll(".al-fields td")].map((td) => td.textContent)).toEqual(["web"]);
    model.set("card", textCard({ token: 3, key: "i:44", kind: "table", text: "", fields: values(200) }));
    expect(cells()).toEqual(values(200).map(([, value]) => value));
    expect(root.querySelector(".al-fields").hidden).toBe(true);
    model.set("card", textCard({ token: 4, key: "i:45", kind: "table", text: "", fields: values(300) }));
    expect(cells()).toEqual(values(300).map(([, value]) => value));
    expect(root.querySelectorAll(".al-body .al-fieldbox")).toHaveLength(1);
  });

  it("leaves the scroll position to the browser's own scrollbar when it shows one", () => {
    const { root } = mount({ card: textCard({ kind: "table", text: "", fields: thirty }) });
    const box = root.querySelector(".al-body .al-table-wrap");
    Object.defineProperty(box, "offsetWidth", { configurable: true, get: () => 512 });
    Object.defineProperty(box, "clientWidth", { configurable: true, get: () => 500 });
    layOut(box);
    expect(root.querySelector(".al-body .al-scroll-cue").hidden).toBe(true);
    expect(root.querySelector(".al-body .al-fields-more").textContent).toBe("scroll for 18 more");
  });

  it("shows all fields on request, for this record only", () => {
    const { root, model } = mount({ card: textCard({ kind: "table", text: "", fields: thirty }) });
    layOut(root.querySelector(".al-body .al-table-wrap"));
    root.querySelector(".al-body .al-fields-toggle").click();
    const fieldbox = root.querySelector(".al-body .al-fieldbox");
    expect(fieldbox.classList.contains("al-fields-open")).toBe(true);
    const toggle = root.querySelector(".al-body .al-fields-toggle");
    expect(toggle.hidden).toBe(false);
    expect(toggle.textContent).toBe("show fewer");
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(model.sent).toEqual([]);
    model.set("card", textCard({ token: 2, key: "i:43", kind: "table", text: "", fields: thirty }));
    expect(root.querySelector(".al-body .al-fieldbox").classList.contains("al-fields-open")).toBe(false);
  });

  it("gives extra columns of a text or image record the same count, hint and toggle", () => {
    const { root } = mount({ card: textCard({ fields: thirty }) });
    const extra = root.querySelector(".al-fields");
    expect(extra.hidden).toBe(false);
    expect(extra.querySelector(".al-fields-count").textContent).toBe("30 fields");
    expect(extra.querySelectorAll("tr").length).toBe(30);
    const box = extra.querySelector(".al-table-wrap");
    expect(box.classList.contains("al-extra-fields")).toBe(true);
    layOut(box, { height: 160, rowHeight: 20 });
    expect(extra.querySelector(".al-fields-more").textContent).toBe("scroll for 22 more");
    extra.querySelector(".al-fields-toggle").click();
    expect(root.querySelector(".al-fields .al-fieldbox").classList.contains("al-fields-open")).toBe(true);
  });

  it("says how many fields only when there are several or they do not fit", () => {
    const few = [["age", "42"], ["income", "1,200"]];
    const { root } = mount({ card: textCard({ kind: "table", text: "", fields: few }) });
    const head = root.querySelector(".al-body .al-fields-head");
    expect(head.hidden).toBe(true);
    expect(head.querySelector(".al-fields-count").textContent).toBe("2 fields");
    // two very long values that do not fit: the count, the hint and the toggle come back
    const box = root.querySelector(".al-body .al-table-wrap");
    layOut(box, { rowHeight: 300 });
    expect(head.hidden).toBe(false);
    expect(head.querySelector(".al-fields-more").textContent).toBe("scroll for 1 more");
    const six = Array.from({ length: 6 }, (_, i) => [`c${i}`, `${i}`]);
    const { root: other } = mount({ card: textCard({ kind: "table", text: "", fields: six }) });
    expect(other.querySelector(".al-body .al-fields-head").hidden).toBe(false);
  });

  it("keeps hostile field names and values as text", () => {
    const hostile = "<img src=x onerror=window.__pwned=1>";
    const { root } = mount({ card: textCard({ kind: "table", text: "", fields: [[hostile, hostile]] }) });
    expect(root.querySelector(".al-body th").textContent).toBe(hostile);
    expect(root.querySelector(".al-fields-count").textContent).toBe("1 field");
    expect(root.querySelectorAll("img").length).toBe(0);
  });
});

describe("what the strategies do", () => {
  const help = {
    hybrid: "Mixes uncertain records with ones unlike those labeled so far.",
    uncertainty: "Shows the records the model is least sure of.",
    diversity: "Shows records unlike those already labeled.",
    random: "Shows records in random order.",
  };

  it("keeps only text descriptions", () => {
    expect(strategyDescriptions({ a: "does a", b: 3, c: "", d: null })).toEqual({ a: "does a" });
    expect(strategyDescriptions(null)).toEqual({});
    expect(strategyDescriptions(["x"])).toEqual({});
  });

  it("gives each option a tooltip and the select the one in use", () => {
    const { root, model } = mount({ strategy_help: help });
    const select = root.querySelector("select");
    expect([...select.options].map((o) => [o.value, o.getAttribute("title")])).toEqual(
      Object.entries(help).map(([name, text]) => [name, text]),
    );
    expect(select.getAttribute("title")).toBe(`hybrid: ${help.hybrid}`);
    model.set("strategy", "random");
    expect(select.getAttribute("title")).toBe(`random: ${help.random}`);
  });

  it("has no option tooltips without descriptions", () => {
    const { root } = mount();
    const select = root.querySelector("select");
    expect([...select.options].some((o) => o.hasAttribute("title"))).toBe(false);
    expect(select.getAttribute("title")).toBe("query strategy");
  });

  it("lists what each strategy does under the keys, marking the one in use", () => {
    const { root, model } = mount({ strategy_help: help });
    press(root, "?");
    const section = root.querySelector(".al-keymap .al-keymap-strategies");
    expect(section.querySelector(".al-section-title").textContent).toBe("strategies");
    const rows = [...section.querySelectorAll("dt")].map((dt) => [dt.querySelector(".al-strategy-name").textContent, dt.nextElementSibling.textContent]);
    expect(rows).toEqual(Object.entries(help));
    expect(section.querySelector(".al-current .al-strategy-name").textContent).toBe("hybrid");
    expect(section.querySelector(".al-in-use").textContent).toBe("in use");
    model.set("strategy", "diversity");
    expect(root.querySelector(".al-keymap .al-current .al-strategy-name").textContent).toBe("diversity");
    // the keys come first and are unchanged
    expect(root.querySelectorAll(".al-keymap .al-keycommands dt").length).toBe(keymapRows().length);
  });

  it("has no strategies section without descriptions, and keeps hostile ones as text", () => {
    const { root, model } = mount();
    press(root, "?");
    expect(root.querySelector(".al-keymap-strategies")).toBeNull();
    const hostile = "<script>window.__pwned=1</script>";
    model.set("strategy_help", { hybrid: hostile });
    const dd = root.querySelector(".al-keymap-strategies dd");
    expect(dd.textContent).toBe(hostile);
    expect(root.querySelectorAll("script").length).toBe(0);
  });
});

describe("per-label counts", () => {
  it("shows how many records carry each label by hand, and a label with none stands out", () => {
    const { root, model } = mount({ progress: { labeled: 40, total: 500, session: 40, skipped: 0, per_label: [31, 9, 0] } });
    const counts = ["bug", "feature", "question"].map((label) => labelButton(root, label).querySelector(".al-label-count"));
    expect(counts.map((c) => c.textContent)).toEqual(["31", "9", "0"]);
    expect(counts.map((c) => c.classList.contains("al-label-count-zero"))).toEqual([false, false, true]);
    expect(labelButton(root, "question").title).toBe("label as question (3) · 0 labels so far");
    model.set("progress", { labeled: 41, total: 500, session: 41, skipped: 0, per_label: [31, 9, 1] });
    expect(labelButton(root, "question").querySelector(".al-label-count").textContent).toBe("1");
    expect(labelButton(root, "question").title).toBe("label as question (3) · 1 label so far");
  });

  it("shows no count when the kernel sends none", () => {
    const { root } = mount();
    expect(root.querySelector(".al-label-count")).toBeNull();
  });
});
