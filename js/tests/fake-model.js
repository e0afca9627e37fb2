// A stand-in for the anywidget model: get / set / on / off / send / save_changes,
// with "change:name" events, then "change", fired by set() and setMany(). killKernel() makes it behave like a model whose
// kernel restarted: send throws as the comm does ("Cannot send on a closed comm").

import { vi } from "vitest";
import { ANSWERS_APART_MS } from "../line.js";

/**
 * Listen for keydown on the document the way the notebooks do: Notebook 7 in the capture phase,
 * JupyterLab in the bubble phase. The card's keys must reach neither; ``stop()`` removes both.
 */
export function listenLikeTheNotebooks() {
  const capture = vi.fn();
  const bubble = vi.fn();
  document.addEventListener("keydown", capture, true);
  document.addEventListener("keydown", bubble);
  return {
    capture,
    bubble,
    stop() {
      document.removeEventListener("keydown", capture, true);
      document.removeEventListener("keydown", bubble);
    },
  };
}

/**
 * Let the page's clock move on as between a labeler's presses, so the next answer leaves at once
 * (line.js, ANSWERS_APART_MS). The page's clock (``performance.now``) is a fake one from the first
 * call; ``unmountCards`` gives the real one back.
 */
export function pace() {
  if (!vi.isFakeTimers()) vi.useFakeTimers({ toFake: ["performance"] });
  vi.advanceTimersByTime(ANSWERS_APART_MS);
}

/**
 * Dispatch a keydown on ``target`` as a key press does, at a labeler's pace (``quick: true``: in
 * a burst, right after the last); returns the event (to check defaultPrevented).
 */
export function press(target, key, { quick = false, ...options } = {}) {
  if (!quick) pace();
  const event = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...options });
  target.dispatchEvent(event);
  return event;
}

/** The label button of the card for ``label``. */
export function labelButton(root, label) {
  return [...root.querySelectorAll("button.al-label")].find((b) => b.dataset.label === label);
}

export function textCard(overrides = {}) {
  return {
    token: 1,
    key: "i:42",
    key_label: "42",
    kind: "text",
    text: "The app crashes when I open settings.",
    fields: [],
    problem: "",
    reason: "confidence 0.12 (hybrid)",
    previous_label: null,
    ...overrides,
  };
}

export function defaultState(overrides = {}) {
  return {
    card: textCard(),
    image: new DataView(new ArrayBuffer(0)),
    labels: ["bug", "feature", "question"],
    key_map: { bug: "1", feature: "2", question: "3" },
    progress: { labeled: 412, total: 5000, session: 23, skipped: 2 },
    suggestion: {},
    model_status: { state: "none", message: "", accuracy: null, n_labels: 0, fits: 0 },
    votes: [],
    upcoming: [],
    answered: {},
    strategy: "hybrid",
    strategies: ["hybrid", "uncertainty", "diversity", "random"],
    store_path: "/data/tickets.labels.db",
    error: "",
    notice: "",
    confidence_png: new DataView(new ArrayBuffer(0)),
    coverage_png: new DataView(new ArrayBuffer(0)),
    ...overrides,
  };
}

export class FakeModel {
  constructor(state = {}) {
    this.state = defaultState(state);
    this.handlers = new Map();
    this.sent = [];
    this.saves = 0;
    this.sendError = null;
  }

  get(name) {
    return this.state[name];
  }

  /** One trait changed by the kernel: "change:name", then "change" (as a message with one trait). */
  set(name, value) {
    this.setMany({ [name]: value });
  }

  /** One message from the kernel: "change:name" for each trait, then "change" once, as Backbone does. */
  setMany(changes) {
    Object.assign(this.state, changes);
    for (const [name, value] of Object.entries(changes)) {
      for (const callback of [...(this.handlers.get(`change:${name}`) || [])]) callback(value);
    }
    for (const callback of [...(this.handlers.get("change") || [])]) callback(this);
  }

  on(event, callback) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(callback);
  }

  off(event, callback) {
    this.handlers.get(event)?.delete(callback);
  }

  listenerCount() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }

  send(content) {
    if (this.sendError) throw this.sendError;
    this.sent.push(content);
  }

  /** Fire any event, as the widget framework does ("comm_live_update", "comm:close"). */
  emit(event, ...args) {
    for (const callback of [...(this.handlers.get(event) || [])]) callback(...args);
  }

  /** From now on every send throws, as it does once the kernel behind the widget is gone. */
  killKernel() {
    this.sendError = new Error("Cannot send on a closed comm");
  }

  save_changes() {
    this.saves += 1;
  }
}

/** The parts of an intent the tests compare (the page adds its view id, seq and what it showed). */
export function core(intent) {
  const { action, key, token, label } = intent;
  return label === undefined ? { action, key, token } : { action, key, token, label };
}

/** The answers the page sent, in order, those sent together (``answers``) one by one. */
export function sentAnswers(model) {
  return model.sent.flatMap((m) => (m.action === "answers" ? m.answers : [m])).filter((m) => m.seq !== undefined);
}

/** A record of the page's line, as the kernel sends it in ``upcoming``. */
export function upcomingRecord(key, overrides = {}) {
  return { key: `i:${key}`, key_label: String(key), kind: "text", text: `record ${key}`, fields: [], problem: "",
           reason: "confidence 0.20 (hybrid)", suggestion: {}, votes: [], image: null, ...overrides };
}

/**
 * Answer the page's intents as the kernel would: commit in order, move the card to the record
 * the page shows next, report ``answered``. ``records`` is the kernel's line after the card.
 */
export function settle(model, records) {
  const mine = sentAnswers(model);
  if (!mine.length) return;
  const last = mine[mine.length - 1];
  const next = records.find((r) => r.key === last.next);
  if (next) model.state.card = { ...textCard(), ...next, token: (model.state.card.token || 0) + 1 };
  model.state.upcoming = next ? records.slice(records.indexOf(next) + 1) : records;
  model.set("answered", { [last.view]: { through: last.seq, refused: [] } });
}

/** PNG signature plus a few bytes: enough to stand for an image. */
export function pngBytes() {
  const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  return new DataView(bytes.buffer);
}

const mountedCards = [];

/**
 * Draw ``widget``'s card (the module's default export) for a FakeModel with ``state`` in the
 * document, focused as after a click: returns ``{ model, el, root, cleanup }``. ``unmountCards``
 * (after each test) removes every card drawn.
 */
export function mountCard(widget, state = {}) {
  const model = new FakeModel(state);
  const host = document.createElement("div");
  document.body.appendChild(host);
  const cleanup = widget.render({ model, el: host });
  mountedCards.push({ cleanup, host });
  const root = host.querySelector(".al-card");
  root.focus();
  return { model, el: host, root, cleanup };
}

export function unmountCards() {
  while (mountedCards.length) {
    const { cleanup, host } = mountedCards.pop();
    cleanup();
    host.remove();
  }
  vi.useRealTimers();
}

/** Resolves once the page's next frame is out and the tasks it queued have run. */
export function afterFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
