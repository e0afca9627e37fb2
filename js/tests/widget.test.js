// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { INLINE_PICTURE_MOST } from "../codecs.js";
import widget, { imagesAhead } from "../widget.js";
import { afterFrame, core, labelButton, listenLikeTheNotebooks, mountCard, pace, pngBytes, press, sentAnswers, settle, textCard, unmountCards, upcomingRecord } from "./fake-model.js";

const mount = (state = {}) => mountCard(widget, state);
let urlCount = 0;

beforeEach(() => {
  urlCount = 0;
  URL.createObjectURL = vi.fn(() => `blob:card/${++urlCount}`);
  URL.revokeObjectURL = vi.fn();
  delete window.__pwned;
});

afterEach(() => {
  unmountCards();
  delete URL.createObjectURL;
  delete URL.revokeObjectURL;
});


describe("the card shows the record", () => {
  it("shows the text, the row, why it was picked, progress, model status and where labels are saved", () => {
    const { root } = mount();
    expect(root.querySelector(".al-text").textContent).toBe("The app crashes when I open settings.");
    expect(root.querySelector(".al-key").textContent).toBe("row 42");
    expect(root.querySelector(".al-reason").textContent).toBe("why this record: confidence 0.12 (hybrid)");
    expect(root.querySelector(".al-progress").textContent).toBe("412 / 5,000 labeled · 23 this session · 2 skipped");
    expect(root.querySelector(".al-status").textContent).toBe("model: none yet");
    expect(root.querySelector(".al-footer").textContent).toContain("saving to /data/tickets.labels.db");
  });

  it("shows hostile text as text and never makes elements or runs code from it", () => {
    const hostile = [
      "<img src=x onerror=window.__pwned=1>",
      "<script>window.__pwned=1</script>",
      "<svg onload=window.__pwned=1></svg>",
    ].join("\n");
    const { root } = mount({
      card: textCard({ text: hostile, key_label: hostile, reason: hostile, previous_label: hostile, fields: [[hostile, hostile]] }),
      labels: [hostile, "ok"],
      suggestion: { label: hostile, confidence: 0.5 },
      votes: [[hostile, hostile]],
      error: hostile,
      notice: hostile,
      strategies: [hostile],
      strategy: hostile,
      model_status: { state: "error", message: hostile },
      store_path: hostile,
    });
    expect(root.querySelector(".al-text").textContent).toBe(hostile);
    expect(root.querySelector(".al-error").textContent).toBe(hostile);
    expect(root.querySelectorAll("img, script, svg, iframe, object").length).toBe(0);
    expect(document.querySelectorAll("script, svg").length).toBe(0);
    for (const node of root.querySelectorAll("*")) {
      for (const attribute of node.attributes) expect(attribute.name.startsWith("on")).toBe(false);
    }
    expect(window.__pwned).toBeUndefined();
  });

  it("clips long text with a show more / show less toggle", () => {
    const long = Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n");
    const { root, model } = mount({ card: textCard({ text: long }) });
    const more = root.querySelector(".al-more");
    expect(more.textContent).toBe("show more");
    expect(root.querySelector(".al-text").classList.contains("al-clipped")).toBe(true);
    more.click();
    expect(root.querySelector(".al-more").textContent).toBe("show less");
    expect(root.querySelector(".al-text").classList.contains("al-clipped")).toBe(false);
    model.set("card", textCard({ token: 2, key: "i:43", key_label: "43", text: long }));
    expect(root.querySelector(".al-more").textContent).toBe("show more");
  });

  it("clips by the record's width, read before the draw changes the card (no layout forced per press)", () => {
    const { root, model } = mount();
    const record = root.querySelector(".al-record");
    const rowWhenRead = [];
    // a narrow notebook: 40 characters a line
    Object.defineProperty(record, "clientWidth", {
      configurable: true,
      get: () => { rowWhenRead.push(root.querySelector(".al-key").textContent); return 300; },
    });
    // 7 lines of 60 characters: 14 lines at 40 a line (clipped), 7 at the default width (whole)
    const text = Array.from({ length: 7 }, () => "x".repeat(60)).join("\n");
    model.set("card", textCard({ token: 2, key: "i:43", key_label: "43", text }));
    expect(root.querySelector(".al-text").classList.contains("al-clipped")).toBe(true);
    expect(rowWhenRead).toEqual(["row 42"]); // once, while the card still showed the last record
  });

  it("reads the record's width only for a draw that redraws the record, not for the kernel's progress messages", () => {
    const { root, model } = mount();
    let reads = 0;
    Object.defineProperty(root.querySelector(".al-record"), "clientWidth", { configurable: true, get: () => { reads += 1; return 300; } });
    model.set("progress", { ...model.get("progress"), labeled: 7 });
    model.set("recent", [{ key: "i:41", key_label: "41", action: "label", label: "bug", source: "human", at: "2026-12-04T22:00:00" }]);
    expect(root.querySelector(".al-recent").textContent).toContain("row 41");
    expect(reads).toBe(0);
    model.set("card", textCard({ token: 2, key: "i:43", key_label: "43" }));
    expect(reads).toBe(1);
  });

  it("shows short text whole, with no toggle", () => {
    const { root } = mount();
    expect(root.querySelector(".al-more")).toBeNull();
    expect(root.querySelector(".al-text").classList.contains("al-clipped")).toBe(false);
  });

  it("keeps a 100 KB unbroken string as one clipped text", () => {
    const huge = "x".repeat(100_000);
    const { root } = mount({ card: textCard({ text: huge }) });
    expect(root.querySelector(".al-text").textContent.length).toBe(100_000);
    expect(root.querySelector(".al-text").classList.contains("al-clipped")).toBe(true);
  });

  it("shows extra columns under the text and the label it had before an undo", () => {
    const { root } = mount({ card: textCard({ fields: [["priority", "high"]], previous_label: "bug" }) });
    const cells = [...root.querySelectorAll(".al-fields th, .al-fields td")].map((c) => c.textContent);
    expect(cells).toEqual(["priority", "high"]);
    expect(root.querySelector(".al-was").textContent).toBe("was: bug");
  });

  it("draws a table record as a two-column table of fields", () => {
    const { root } = mount({
      card: textCard({ kind: "table", text: "", fields: [["age", "42"], ["income", "1,200"]] }),
    });
    const rows = [...root.querySelectorAll(".al-body tr")].map((tr) => [...tr.children].map((c) => c.textContent));
    expect(rows).toEqual([["age", "42"], ["income", "1,200"]]);
    expect(root.querySelector(".al-fields").hidden).toBe(true);
  });

  it("shows heuristic votes as chips", () => {
    const { root } = mount({ votes: [["mentions_crash", "bug"], ["is_question", null]] });
    const chips = [...root.querySelectorAll(".al-chip")].map((c) => c.textContent);
    expect(chips).toEqual(["mentions_crash: bug", "is_question: abstains"]);
    expect(root.querySelector(".al-votes").hidden).toBe(false);
  });

  it("has no votes line when there are no votes", () => {
    const { root } = mount();
    expect(root.querySelector(".al-votes").hidden).toBe(true);
  });

  it("shows the model status as it trains, fits and fails", () => {
    const { root, model } = mount();
    const status = () => root.querySelector(".al-status").textContent;
    model.set("model_status", { state: "training", message: "", accuracy: null, n_labels: 120, fits: 0 });
    expect(status()).toBe("model: training…");
    model.set("model_status", { state: "ready", message: "", accuracy: 0.8712, n_labels: 120, fits: 1 });
    expect(status()).toBe("model: 87% CV accuracy on 120 labels");
    model.set("model_status", { state: "error", message: "only one class labeled", accuracy: null, n_labels: 3, fits: 1 });
    expect(status()).toBe("model error: only one class labeled");
    expect(root.querySelector(".al-status").classList.contains("al-status-error")).toBe(true);
  });
});

describe("images", () => {
  // the pictures the page decodes, in order: the browser's decode() is stubbed while a test watches
  const watchDecodes = () => {
    const decoded = [];
    window.HTMLImageElement.prototype.decode = function decode() {
      decoded.push(this.getAttribute("src"));
      return Promise.resolve();
    };
    return decoded;
  };
  afterEach(() => {
    delete window.HTMLImageElement.prototype.decode;
  });
  /** A picture too large to travel as a data: URL (a blob: URL, made and let go of by the page). */
  const picture = (n) => {
    const bytes = new Uint8Array(INLINE_PICTURE_MOST + 1);
    bytes.set([0x89, 0x50, 0x4e, 0x47, n]);
    return new DataView(bytes.buffer);
  };

  it("shows a small picture as a data: URL, there the moment its card is drawn, with nothing to let go of", () => {
    const { root, cleanup } = mount({ card: textCard({ kind: "image", text: "" }), image: pngBytes() });
    const src = root.querySelector("img.al-image").getAttribute("src");
    expect(src.startsWith("data:image/png;base64,")).toBe(true);
    expect(Uint8Array.from(atob(src.split(",")[1]), (c) => c.charCodeAt(0))).toEqual(new Uint8Array(pngBytes().buffer));
    expect(URL.createObjectURL).not.toHaveBeenCalled();
    cleanup();
    expect(URL.revokeObjectURL).not.toHaveBeenCalled();
  });

  it("shows a large picture through an object URL and revokes the old URL on a new image", async () => {
    const { root, model } = mount({ card: textCard({ kind: "image", text: "" }), image: picture(1) });
    expect(URL.createObjectURL).toHaveBeenCalledTimes(1);
    const blob = URL.createObjectURL.mock.calls[0][0];
    expect(blob.type).toBe("image/png");
    expect(blob.size).toBe(INLINE_PICTURE_MOST + 1);
    expect(root.querySelector("img.al-image").getAttribute("src")).toBe("blob:card/1");
    model.set("image", picture(1)); // the same bytes again (a sync that changed nothing): the same URL
    expect(root.querySelector("img.al-image").getAttribute("src")).toBe("blob:card/1");
    const other = new Uint8Array(picture(7).buffer);
    model.set("image", new DataView(other.buffer));
    model.set("card", textCard({ kind: "image", text: "", token: 2, key: "i:43" }));
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:card/1");
    const shown = root.querySelector("img.al-image").getAttribute("src");
    expect(shown).not.toBe("blob:card/1");
    const made = URL.createObjectURL.mock.results.findIndex((r) => r.value === shown);
    expect(new Uint8Array(await URL.createObjectURL.mock.calls[made][0].arrayBuffer())).toEqual(other);
    expect(URL.revokeObjectURL).not.toHaveBeenCalledWith(shown); // the picture on screen stays live
  });

  it("loads and decodes the pictures of the next records while one is looked at, after the frame, not in the key press", async () => {
    const decoded = watchDecodes();
    const upcoming = [2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => upcomingRecord(n, { kind: "image", text: "", image: picture(n) }));
    const { root } = mount({ card: textCard({ kind: "image", text: "" }), image: picture(1), upcoming });
    await afterFrame();
    // the record on screen and the next seven (the default preload of 8), no further
    expect(decoded).toHaveLength(8);
    expect(root.querySelector("img.al-image").getAttribute("src")).toBe(decoded[0]);
    const urlsMade = URL.createObjectURL.mock.calls.length;
    press(root, "1");
    // the record now on screen is drawn from the URL its picture was decoded from; the key press
    // itself made no picture URL and decoded nothing
    expect(root.querySelector(".al-key").textContent).toBe("row 2");
    expect(root.querySelector("img.al-image").getAttribute("src")).toBe(decoded[1]);
    expect(URL.createObjectURL.mock.calls.length).toBe(urlsMade);
    expect(decoded).toHaveLength(8);
    // once the frame is out, one more is decoded ahead
    await afterFrame();
    expect(decoded).toHaveLength(9);
    expect(URL.revokeObjectURL).not.toHaveBeenCalledWith(decoded[1]);
    // the record just answered keeps its picture: an undo shows it at once, from the same URL
    expect(URL.revokeObjectURL).not.toHaveBeenCalledWith(decoded[0]);
    press(root, "z");
    expect(root.querySelector(".al-key").textContent).toBe("row 42");
    expect(root.querySelector("img.al-image").getAttribute("src")).toBe(decoded[0]);
    // three answers later the first one's picture is let go: the page holds a few pictures, not the history
    press(root, "1");
    press(root, "1");
    press(root, "1");
    await afterFrame();
    expect(URL.revokeObjectURL).toHaveBeenCalledWith(decoded[0]);
  });

  it("counts the pictures to get ready from preload: none ahead for a page of one record, the default's without a word", () => {
    expect(imagesAhead(1)).toBe(0);
    expect(imagesAhead(8)).toBe(7);
    expect(imagesAhead(undefined)).toBe(7);
    expect(imagesAhead(0)).toBe(7);
    expect(imagesAhead(2.5)).toBe(7);
  });

  it("gets ready the pictures of as many records as the labeler's preload, not of a deeper line a lagging kernel sends", async () => {
    const decoded = watchDecodes();
    const upcoming = [2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => upcomingRecord(n, { kind: "image", text: "", image: picture(n) }));
    mount({ card: textCard({ kind: "image", text: "" }), image: pngBytes(), upcoming, preload: 4 });
    await afterFrame();
    expect(decoded).toHaveLength(4); // the record on screen and the next three
    unmountCards();
    decoded.length = 0;
    mount({ card: textCard({ kind: "image", text: "" }), image: pngBytes(), upcoming, preload: 16 });
    await afterFrame();
    expect(decoded).toHaveLength(10); // all the page holds
  });

  it("starts loading the pictures of records the kernel just sent at once: they may be on screen within a few presses", async () => {
    const decoded = watchDecodes();
    const { model } = mount({ card: textCard({ kind: "image", text: "" }), image: pngBytes(), upcoming: [] });
    await afterFrame();
    expect(decoded).toHaveLength(1);
    model.set("upcoming", [2, 3].map((n) => upcomingRecord(n, { kind: "image", text: "", image: picture(n) })));
    expect(decoded).toHaveLength(3);
    // the same records again in a later message, as new bytes objects: nothing is made twice
    const urlsMade = URL.createObjectURL.mock.calls.length;
    model.set("upcoming", [2, 3].map((n) => upcomingRecord(n, { kind: "image", text: "", image: picture(n) })));
    await afterFrame();
    expect(URL.createObjectURL.mock.calls.length).toBe(urlsMade);
    expect(decoded).toHaveLength(3);
  });

  it("shows a placeholder with the reason when the image could not be read", () => {
    const { root } = mount({ card: textCard({ kind: "image", text: "", problem: "could not read the image: cannot identify image file" }) });
    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector(".al-problem").textContent).toContain("cannot identify image file");
  });
});

describe("a record that cannot be shown", () => {
  const hostile = "<img src=x onerror=window.__pwned=1><script>window.__pwned=1</script>";

  it("shows the reason as text in a placeholder, never as markup", () => {
    const { root } = mount({ card: textCard({ problem: hostile }) });
    const box = root.querySelector(".al-record .al-problem");
    expect(box).not.toBeNull();
    expect(box.hidden).toBe(false);
    expect(box.querySelector(".al-placeholder-detail").textContent).toBe(hostile);
    expect(box.textContent).toContain("cannot be shown");
    expect(root.querySelectorAll("img, script").length).toBe(0);
    expect(box.querySelectorAll("*").length).toBe(2);
    expect(window.__pwned).toBeUndefined();
  });

  it("shows the placeholder instead of the text, image or table", () => {
    const reason = "the image is too large to show (250,000,000 pixels)";
    const { root, model } = mount({ card: textCard({ problem: reason }) });
    expect(root.querySelector(".al-text")).toBeNull();
    expect(root.querySelector(".al-problem").textContent).toContain(reason);
    model.set("image", pngBytes());
    model.set("card", textCard({ token: 2, kind: "image", text: "", problem: reason }));
    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector(".al-problem").textContent).toContain(reason);
    model.set("card", textCard({ token: 3, kind: "table", text: "", fields: [["a", "1"]], problem: "cannot be shown: ValueError" }));
    expect(root.querySelector(".al-record-table")).toBeNull();
    expect(root.querySelector(".al-problem").textContent).toContain("ValueError");
    model.set("card", textCard({ token: 4, problem: "" }));
    expect(root.querySelector(".al-problem")).toBeNull();
    expect(root.querySelector(".al-text").textContent).toBe("The app crashes when I open settings.");
  });

  it("keeps labeling, skipping, accepting and undoing as usual", () => {
    const broken = { problem: "this cell's text cannot be shown: ValueError", suggestion: { label: "feature", confidence: 0.7 } };
    const { root, model } = mount({
      card: textCard({ problem: broken.problem }),
      suggestion: broken.suggestion,
      upcoming: [upcomingRecord(7, broken), upcomingRecord(8, broken)],
    });
    for (const key of ["1", "s", "Enter", "z"]) press(root, key);
    expect(model.sent.map(core)).toEqual([
      { action: "label", key: "i:42", token: 1, label: "bug" },
      { action: "skip", key: "i:7", token: null },
      { action: "accept", key: "i:8", token: null, label: "feature" },
      { action: "undo", key: "i:8", token: null },
    ]);
    expect(root.querySelector(".al-key").textContent).toBe("row 8"); // back on screen after the undo
    expect(labelButton(root, "bug").disabled).toBe(false);
    pace();
    labelButton(root, "question").click();
    expect(core(model.sent.at(-1))).toEqual({ action: "label", key: "i:8", token: null, label: "question" });
  });
});

describe("keys send intents for the current card", () => {
  it("1 and 2 label the record on screen, then the next from the page's line, with no wait", () => {
    const { root, model } = mount({ upcoming: [upcomingRecord(7)] });
    press(root, "1");
    expect(root.querySelector(".al-key").textContent).toBe("row 7"); // before the kernel answered
    press(root, "2");
    expect(model.sent.map(core)).toEqual([
      { action: "label", key: "i:42", token: 1, label: "bug" },
      { action: "label", key: "i:7", token: null, label: "feature" },
    ]);
    expect(model.sent.map((m) => m.seq)).toEqual([1, 2]);
    expect(model.sent.map((m) => m.next)).toEqual(["i:7", null]);
  });

  it("a number with no label sends nothing", () => {
    const { root, model } = mount();
    press(root, "4");
    expect(model.sent).toEqual([]);
  });

  it("Enter accepts only when there is a suggestion", () => {
    const { root, model } = mount();
    press(root, "Enter");
    expect(model.sent).toEqual([]);
    model.set("suggestion", { label: "bug", confidence: 0.83 });
    press(root, "Enter");
    expect(model.sent.map(core)).toEqual([{ action: "accept", key: "i:42", token: 1, label: "bug" }]);
    expect(model.sent[0]).toMatchObject({ suggested: "bug", confidence: 0.83 });
  });

  it("s skips, z and Backspace undo, r retrains", () => {
    const { root, model } = mount({ upcoming: [upcomingRecord(7)] });
    press(root, "s");
    press(root, "z");
    press(root, "Backspace");
    press(root, "r");
    expect(model.sent.map((m) => m.action)).toEqual(["skip", "undo", "undo", "retrain"]);
    expect(model.sent.map((m) => m.key)).toEqual(["i:42", "i:42", null, "i:42"]);
    expect(root.querySelector(".al-key").textContent).toBe("row 42");
  });

  it("ignores keys held with ctrl, meta or alt and lets them through", () => {
    const { root, model } = mount();
    const events = [press(root, "1", { ctrlKey: true }), press(root, "s", { metaKey: true }), press(root, "z", { altKey: true })];
    expect(model.sent).toEqual([]);
    expect(events.some((e) => e.defaultPrevented)).toBe(false);
  });

  it("stops the keys it handles from reaching the notebook", () => {
    const { root, model } = mount();
    const reachedDocument = vi.fn();
    document.addEventListener("keydown", reachedDocument);
    const events = ["1", "s", "z", "Backspace", "r", "i", "?"].map((key) => press(root, key));
    model.set("suggestion", { label: "bug", confidence: 0.9 });
    events.push(press(root, "Enter"));
    document.removeEventListener("keydown", reachedDocument);
    expect(reachedDocument).not.toHaveBeenCalled();
    expect(events.every((e) => e.defaultPrevented)).toBe(true);
  });

  it("keeps other letters from the notebook's command mode but lets Shift+Enter run the cell", () => {
    const { root, model } = mount({ suggestion: { label: "bug", confidence: 0.9 } });
    const reachedDocument = vi.fn();
    document.addEventListener("keydown", reachedDocument);
    press(root, "d");
    press(root, "a");
    expect(reachedDocument).not.toHaveBeenCalled();
    press(root, "Enter", { shiftKey: true });
    document.removeEventListener("keydown", reachedDocument);
    expect(reachedDocument).toHaveBeenCalledTimes(1);
    expect(model.sent).toEqual([]);
  });

  it("ignores keys while the strategy select has focus", () => {
    const { root, model } = mount();
    const select = root.querySelector("select");
    select.focus();
    press(select, "1");
    press(select, "s");
    expect(model.sent).toEqual([]);
  });

  it("sends the new card's key and token once the card changes", () => {
    const { root, model } = mount();
    press(root, "1");
    model.set("card", textCard({ token: 2, key: "i:7", key_label: "7", text: "Add dark mode" }));
    expect(root.querySelector(".al-text").textContent).toBe("Add dark mode");
    press(root, "1");
    expect(model.sent.map(core)).toEqual([
      { action: "label", key: "i:42", token: 1, label: "bug" },
      { action: "label", key: "i:7", token: 2, label: "bug" },
    ]);
    // the page answered all it held: it says the next record is coming, and takes no label key
    expect(root.querySelector(".al-done").textContent).toBe("The next record is on its way…");
    press(root, "2");
    expect(model.sent.length).toBe(2);
  });

  it("a key labels with the label the kernel's key map gives it: 0 the tenth, letters after", () => {
    const labels = Array.from({ length: 12 }, (_, i) => `class${i + 1}`);
    const keyMap = Object.fromEntries(labels.map((label, i) => [label, "1234567890ab"[i]]));
    const { root, model } = mount({ labels, key_map: keyMap, upcoming: [upcomingRecord(7), upcomingRecord(8)] });
    press(root, "0");
    press(root, "9");
    press(root, "B");
    expect(model.sent.map((m) => m.label)).toEqual(["class10", "class9", "class12"]);
  });

  it("labels named 0 to 9 are saved by their own digit", () => {
    const labels = ["0", "1", "2"];
    const { root, model } = mount({ labels, key_map: { 0: "0", 1: "1", 2: "2" }, upcoming: [upcomingRecord(7)] });
    press(root, "1");
    press(root, "0");
    expect(model.sent.map((m) => m.label)).toEqual(["1", "0"]);
    expect([...root.querySelectorAll("button.al-label kbd")].map((k) => k.textContent)).toEqual(["0", "1", "2"]);
  });

  it("a digit with no label sends nothing, and stays out of the notebook", () => {
    const { root, model } = mount();
    const notebook = listenLikeTheNotebooks();
    press(root, "0");
    notebook.stop();
    expect(model.sent).toEqual([]);
    expect(notebook.capture).not.toHaveBeenCalled();
  });

  it("lets Enter on a focused button press that button instead of accepting", () => {
    const { root, model } = mount({ suggestion: { label: "bug", confidence: 0.9 } });
    const undo = [...root.querySelectorAll("button")].find((b) => b.textContent.endsWith("undo"));
    const event = press(undo, "Enter");
    expect(event.defaultPrevented).toBe(false);
    expect(model.sent).toEqual([]);
  });
});

describe("keys reach the card before the notebook's shortcuts", () => {
  // Notebook 7 runs its shortcuts in the capture phase on the document, JupyterLab in the
  // bubble phase: the card's keys must reach neither.

  it("takes its keys before a capture listener on the document sees them", () => {
    const strong = { suggestion: { label: "bug", confidence: 0.9 } };
    const { root, model } = mount({ ...strong, upcoming: [upcomingRecord(7, strong), upcomingRecord(8, strong)] });
    const notebook = listenLikeTheNotebooks();
    const events = ["1", "s", "z", "Backspace", "r", "i", "?", "Enter"].map((key) => press(root, key));
    notebook.stop();
    expect(notebook.capture).not.toHaveBeenCalled();
    expect(notebook.bubble).not.toHaveBeenCalled();
    expect(events.every((e) => e.defaultPrevented)).toBe(true);
    expect(model.sent.map((m) => m.action)).toEqual(["label", "skip", "undo", "undo", "retrain", "plots", "accept"]);
  });

  it("keeps command-mode letters (a b c x m y d l o w) from the notebook while the card has focus", () => {
    const { root, model } = mount();
    const notebook = listenLikeTheNotebooks();
    for (const key of ["a", "b", "c", "x", "m", "y", "d", "l", "o", "w", "M", "J", "K"]) press(root, key);
    notebook.stop();
    expect(notebook.capture).not.toHaveBeenCalled();
    expect(notebook.bubble).not.toHaveBeenCalled();
    expect(model.sent).toEqual([]);
  });

  it("lets Shift+Enter, keys with ctrl / meta / alt, Tab, arrows and a lone Escape through", () => {
    const { root, model } = mount({ suggestion: { label: "bug", confidence: 0.9 } });
    const notebook = listenLikeTheNotebooks();
    const events = [
      press(root, "Enter", { shiftKey: true }),
      press(root, "s", { ctrlKey: true }),
      press(root, "z", { metaKey: true }),
      press(root, "1", { altKey: true }),
      press(root, "Tab"),
      press(root, "ArrowDown"),
      press(root, "Escape"),
    ];
    notebook.stop();
    expect(notebook.capture).toHaveBeenCalledTimes(7);
    expect(notebook.bubble).toHaveBeenCalledTimes(7);
    expect(events.some((e) => e.defaultPrevented)).toBe(false);
    expect(model.sent).toEqual([]);
  });

  it("takes keys pressed on a focused button inside the card", () => {
    const { root, model } = mount();
    const notebook = listenLikeTheNotebooks();
    const skip = [...root.querySelectorAll("button")].find((b) => b.textContent.endsWith("skip"));
    press(skip, "x");
    press(skip, "1");
    notebook.stop();
    expect(notebook.capture).not.toHaveBeenCalled();
    expect(model.sent.map((m) => m.label)).toEqual(["bug"]);
  });

  it("ignores keys pressed outside the card, such as in a cell editor", () => {
    const { model } = mount();
    const editor = document.createElement("div");
    editor.tabIndex = 0;
    document.body.appendChild(editor);
    const notebook = listenLikeTheNotebooks();
    const events = ["1", "s", "z", "x", "?"].map((key) => press(editor, key));
    notebook.stop();
    editor.remove();
    expect(notebook.capture).toHaveBeenCalledTimes(5);
    expect(notebook.bubble).toHaveBeenCalledTimes(5);
    expect(events.some((e) => e.defaultPrevented)).toBe(false);
    expect(model.sent).toEqual([]);
  });

  it("sends a key only for the card it was pressed in when two cards are shown", () => {
    const first = mount();
    const second = mount({ card: textCard({ token: 7, key: "i:8", key_label: "8" }) });
    press(second.root, "2");
    expect(first.model.sent).toEqual([]);
    expect(second.model.sent.map(core)).toEqual([{ action: "label", key: "i:8", token: 7, label: "feature" }]);
  });

  it("stops listening on the window once cleaned up", () => {
    const added = vi.spyOn(window, "addEventListener");
    const removed = vi.spyOn(window, "removeEventListener");
    const { root, model, cleanup } = mount();
    const keydown = added.mock.calls.filter(([type]) => type === "keydown");
    expect(keydown.length).toBe(1);
    expect(keydown[0][2]).toBe(true); // the capture phase
    cleanup();
    expect(removed).toHaveBeenCalledWith("keydown", keydown[0][1], true);
    added.mockRestore();
    removed.mockRestore();
    document.body.appendChild(root); // even if the old node were put back
    const notebook = listenLikeTheNotebooks();
    const event = press(root, "1");
    notebook.stop();
    root.remove();
    expect(model.sent).toEqual([]);
    expect(event.defaultPrevented).toBe(false);
    expect(notebook.capture).toHaveBeenCalledTimes(1);
  });
});

describe("buttons", () => {
  it("has one button per label with its key hint from the key map, none for a label without a key", () => {
    const labels = Array.from({ length: 11 }, (_, i) => `class${i + 1}`);
    const keyMap = Object.fromEntries(labels.map((label, i) => [label, i < 10 ? "1234567890"[i] : null]));
    const { root } = mount({ labels, key_map: keyMap });
    const texts = [...root.querySelectorAll("button.al-label")].map((b) => b.textContent);
    expect(texts[0]).toBe("1class1");
    expect(texts[8]).toBe("9class9");
    expect(texts[9]).toBe("0class10");
    expect(labelButton(root, "class10").title).toBe("label as class10 (0)");
    expect(texts[10]).toBe("class11");
    expect(labelButton(root, "class11").querySelector("kbd")).toBeNull();
  });

  it("clicking a label button sends the label intent", () => {
    const { root, model } = mount();
    labelButton(root, "question").click();
    expect(model.sent.map(core)).toEqual([{ action: "label", key: "i:42", token: 1, label: "question" }]);
  });

  it("clicking skip, undo and retrain sends those intents", () => {
    const { root, model } = mount();
    const byText = (end) => [...root.querySelectorAll("button")].find((b) => b.textContent.endsWith(end));
    byText("skip").click();
    byText("undo").click();
    byText("retrain").click();
    expect(model.sent.map((m) => m.action)).toEqual(["skip", "undo", "retrain"]);
  });

  it("keeps its label buttons from record to record, updated in place, and makes them anew when the labels change", () => {
    const upcoming = [upcomingRecord(2, { suggestion: { label: "feature", confidence: 0.9 } }), upcomingRecord(3)];
    const { root, model } = mount({ suggestion: { label: "bug", confidence: 0.9 }, upcoming,
                                    progress: { labeled: 4, total: 50, session: 4, skipped: 0, per_label: [2, 2, 0] } });
    const buttons = [...root.querySelectorAll("button.al-label")];
    press(root, "2"); // the next record, with another suggestion
    model.set("progress", { labeled: 5, total: 50, session: 5, skipped: 0, per_label: [2, 3, 0] });
    const now = [...root.querySelectorAll("button.al-label")];
    expect(now.length === buttons.length && now.every((b, i) => b === buttons[i])).toBe(true); // the same elements
    expect(buttons.map((b) => b.classList.contains("al-suggested"))).toEqual([false, true, false]);
    expect(buttons.map((b) => b.querySelector(".al-label-count").textContent)).toEqual(["2", "3", "0"]);
    pace();
    buttons[0].click(); // a kept button still answers with its label
    expect(sentAnswers(model).at(-1)).toMatchObject({ action: "label", label: "bug" });
    model.set("labels", ["bug", "feature", "question", "praise"]);
    const remade = [...root.querySelectorAll("button.al-label")];
    expect(remade.map((b) => b.dataset.label)).toEqual(["bug", "feature", "question", "praise"]);
    expect(remade[0]).not.toBe(buttons[0]);
  });

  it("clicking anywhere focuses the card so the keys reach it", () => {
    const { root } = mount();
    expect(root.getAttribute("tabindex")).toBe("0");
    root.querySelector(".al-text").click();
    expect(document.activeElement).toBe(root);
  });
});

describe("suggestion", () => {
  it("shows the suggestion and highlights its label", () => {
    const { root } = mount({ suggestion: { label: "bug", confidence: 0.834 } });
    expect(root.querySelector(".al-suggestion").textContent).toBe("Suggestion: bug · confidence 0.83 — Enter to accept");
    expect(labelButton(root, "bug").classList.contains("al-suggested")).toBe(true);
    expect(labelButton(root, "feature").classList.contains("al-suggested")).toBe(false);
  });

  it("keeps the slot with a muted line when there is no suggestion", () => {
    const { root } = mount();
    const slot = root.querySelector(".al-suggestion");
    expect(slot.textContent).toBe("no suggestion yet");
    expect(slot.classList.contains("al-muted")).toBe(true);
    expect(root.querySelectorAll(".al-suggested").length).toBe(0);
  });
});

describe("done and empty", () => {
  it("shows the message, disables labeling and keeps undo and retrain", () => {
    const { root, model } = mount({
      card: { token: 9, key: null, key_label: "", kind: "done", text: "All 5,000 records are labeled" },
      suggestion: { label: "bug", confidence: 0.9 },
    });
    expect(root.querySelector(".al-done").textContent).toBe("All 5,000 records are labeled");
    expect(root.querySelector(".al-text")).toBeNull();
    expect([...root.querySelectorAll("button.al-label")].every((b) => b.disabled)).toBe(true);
    ["1", "Enter", "s"].forEach((key) => press(root, key));
    expect(model.sent).toEqual([]);
    press(root, "z");
    press(root, "r");
    expect(model.sent.map(core)).toEqual([
      { action: "undo", key: null, token: null },
      { action: "retrain", key: null, token: 9 },
    ]);
  });

  it("shows the empty state's message", () => {
    const { root } = mount({ card: { token: 1, key: null, kind: "empty", text: "The data has no rows" } });
    expect(root.querySelector(".al-done").textContent).toBe("The data has no rows");
    expect(root.querySelector(".al-reason")).toBeNull();
  });
});

describe("messages", () => {
  it("shows an error banner while there is an error", () => {
    const { root, model } = mount();
    const banner = root.querySelector(".al-error[role=alert]");
    expect(banner.hidden).toBe(true);
    model.set("error", "could not write to the store: disk full");
    expect(banner.hidden).toBe(false);
    expect(banner.textContent).toBe("could not write to the store: disk full");
    model.set("error", "");
    expect(banner.hidden).toBe(true);
  });

  it("shows a notice as a muted line", () => {
    const { root, model } = mount();
    model.set("notice", "stale card ignored");
    const notice = root.querySelector(".al-notice");
    expect(notice.hidden).toBe(false);
    expect(notice.textContent).toBe("stale card ignored");
  });
});

describe("strategy", () => {
  it("lists the strategies, selects the current one and sends a strategy intent on change", () => {
    const { root, model } = mount();
    const select = root.querySelector("select");
    expect([...select.options].map((o) => o.value)).toEqual(["hybrid", "uncertainty", "diversity", "random"]);
    expect(select.value).toBe("hybrid");
    select.value = "random";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.sent).toEqual([{ action: "strategy", key: "i:42", token: 1, name: "random" }]);
    model.set("strategy", "random");
    expect(select.value).toBe("random");
  });
});

describe("strategy, picked and not taken", () => {
  it("shows the strategy in use again at the next draw when the kernel did not take the one picked", () => {
    const { root, model } = mount();
    const select = root.querySelector("select");
    select.value = "random";
    select.dispatchEvent(new Event("change", { bubbles: true }));
    model.set("error", "strategy='random' needs ..."); // the kernel refused: the trait stays hybrid
    expect(select.value).toBe("hybrid");
  });
});

describe("insights and key map", () => {
  it("i opens insights with a note until plots exist, then shows the plots", () => {
    const { root, model } = mount();
    const panel = root.querySelector(".al-insights");
    expect(panel.hidden).toBe(true);
    press(root, "i");
    expect(panel.hidden).toBe(false);
    expect(panel.textContent).toContain("plots appear after the first model fit");
    model.set("confidence_png", pngBytes());
    model.set("coverage_png", pngBytes());
    const srcs = [...panel.querySelectorAll("img")].map((img) => img.getAttribute("src"));
    expect(srcs).toEqual(["blob:card/1", "blob:card/2"]);
    press(root, "i");
    expect(panel.hidden).toBe(true);
    // the kernel draws the plots only while the panel is open
    expect(model.sent.map((m) => [m.action, m.open])).toEqual([["plots", true], ["plots", false]]);
  });

  it("shows one plot at a time under tabs, and the chosen tab stays while the plots are redrawn", () => {
    const { root, model } = mount();
    press(root, "i");
    model.set("confidence_png", pngBytes());
    model.set("coverage_png", pngBytes());
    const panel = root.querySelector(".al-insights");
    const visible = () => [...panel.querySelectorAll(".al-plot")].filter((f) => !f.hidden).map((f) => f.dataset.plot);
    const tabs = () => [...panel.querySelectorAll("[role=tab]")];
    expect(tabs().map((t) => t.textContent)).toEqual(["confidence distribution", "embedding coverage"]);
    expect(tabs().map((t) => t.getAttribute("aria-selected"))).toEqual(["true", "false"]);
    expect(visible()).toEqual(["confidence"]);
    tabs()[1].click();
    expect(visible()).toEqual(["coverage"]);
    expect(tabs().map((t) => t.getAttribute("aria-selected"))).toEqual(["false", "true"]);
    model.set("coverage_png", pngBytes()); // a new fit redraws the plots: the user's tab stays
    expect(visible()).toEqual(["coverage"]);
    expect(model.sent.map((m) => m.action)).toEqual(["plots"]); // choosing a plot is the page's business
  });

  it("with only one plot drawn, that plot shows whatever tab was chosen", () => {
    const { root, model } = mount();
    press(root, "i");
    model.set("coverage_png", pngBytes());
    const shown = [...root.querySelectorAll(".al-insights .al-plot")].filter((f) => !f.hidden);
    expect(shown.map((f) => f.dataset.plot)).toEqual(["coverage"]);
  });

  it("? opens the key map listing every key and the labels, Escape closes it", () => {
    const { root, model } = mount();
    press(root, "?");
    const keymap = root.querySelector(".al-keymap");
    expect(keymap.hidden).toBe(false);
    const rows = [...keymap.querySelectorAll(".al-keycommands dt")]
      .map((dt) => [[...dt.querySelectorAll("kbd")].map((k) => k.textContent), dt.textContent, dt.nextElementSibling.textContent]);
    expect(rows).toEqual([
      [["Enter"], "Enter", "accept the suggestion (in review: keep the label)"],
      [["s"], "s", "skip: put the record at the back of the line (in review: move on)"],
      [["Del"], "Del", "reject: the record is unusable (out of training and the line)"],
      [["z", "Backspace"], "z or Backspace", "undo the last label or skip"],
      [["v"], "v", "review labeled records, or go back to labeling"],
      [["r"], "r", "retrain the model now"],
      [["i"], "i", "show or hide insights"],
      [["?"], "?", "show or hide this key map"],
      [["Esc"], "Esc", "close the key map and insights"],
    ]);
    expect(keymap.textContent).toContain("question");
    press(root, "Escape");
    expect(keymap.hidden).toBe(true);
    expect(model.sent).toEqual([]);
  });

  it("the key map lists every label with its key first, and a label with no key as a click", () => {
    const labels = Array.from({ length: 12 }, (_, i) => `class${i + 1}`);
    const keyMap = Object.fromEntries(labels.map((label, i) => [label, i < 11 ? "1234567890a"[i] : null]));
    const { root } = mount({ labels, key_map: keyMap });
    press(root, "?");
    const keymap = root.querySelector(".al-keymap");
    expect(keymap.querySelector(".al-keylist").classList.contains("al-keylabels")).toBe(true);
    const labelRows = [...keymap.querySelectorAll(".al-keylabels dt")].map((dt) => [dt.textContent, dt.nextElementSibling.textContent]);
    expect(labelRows.length).toBe(12);
    expect(labelRows[0]).toEqual(["1", "label as class1"]);
    expect(labelRows[9]).toEqual(["0", "label as class10"]);
    expect(labelRows[10]).toEqual(["a", "label as class11"]);
    expect(labelRows[11]).toEqual(["click", "label as class12 (no key left)"]);
  });

  it("the insights and ? buttons toggle the same panels", () => {
    const { root } = mount();
    root.querySelector(".al-help").click();
    expect(root.querySelector(".al-keymap").hidden).toBe(false);
    const insights = [...root.querySelectorAll("button")].find((b) => b.textContent.endsWith("insights"));
    insights.click();
    expect(root.querySelector(".al-insights").hidden).toBe(false);
    expect(insights.getAttribute("aria-pressed")).toBe("true");
  });
});

describe("cleanup", () => {
  it("removes every listener, frees object URLs and leaves a later change or key harmless", () => {
    const large = new Uint8Array(INLINE_PICTURE_MOST + 1);
    large.set(new Uint8Array(pngBytes().buffer));
    const { root, model, el, cleanup } = mount({ card: textCard({ kind: "image", text: "" }), image: new DataView(large.buffer) });
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:card/1");
    expect(el.querySelector(".al-card")).toBeNull();
    expect(() => model.set("card", textCard({ token: 5 }))).not.toThrow();
    press(root, "1");
    root.querySelector("button.al-label").click();
    expect(model.sent).toEqual([]);
  });
});
