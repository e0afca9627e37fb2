// Drawing the card: state in, DOM out. Every node is built with createElement and
// every string set as textContent (see dom.js); records are untrusted.
// Buttons call the `actions` given to createCard; nothing here decides what comes next.

import { h, place, setAttr, setStyle, setText, show } from "./dom.js";
import { keyOf, keymapRows } from "./keys.js";

/** Lines of record text shown before "show more". */
export const CLIP_LINES = 12;
/** Fields from which a record's fields box says how many there are (fewer show at a glance). */
export const FIELD_COUNT_FROM = 6;
/** Records after which the height a taller record left is let go (see recordShown). */
export const HOLD_RECORDS = 5;
/** Characters per line assumed when estimating how tall a text will be. */
const CHARS_PER_LINE = 90;

const number = new Intl.NumberFormat("en-US");

function count(value) {
  const n = Number(value);
  return number.format(Number.isFinite(n) ? n : 0);
}

/**
 * "412 / 5,000 labeled · 23 this session · 2 skipped"; labeling as a team:
 * "412 / 5,000 labeled by 3 people · 23 by you this session · 2 skipped · 8 with others now"
 * (and, with overlap, "· 40 need another answer").
 */
export function progressText(progress) {
  const p = progress || {};
  if (finite(p.annotators) === null) {
    return `${count(p.labeled)} / ${count(p.total)} labeled · ${count(p.session)} this session · ${count(p.skipped)} skipped`;
  }
  const people = finite(p.annotators) === 1 ? "1 person" : `${count(p.annotators)} people`;
  const another = finite(p.need_another) === null ? "" : ` · ${count(p.need_another)} need another answer`;
  return `${count(p.labeled)} / ${count(p.total)} labeled by ${people} · ${count(p.session)} by you this session · `
    + `${count(p.skipped)} skipped · ${count(p.with_others)} with others now${another}`;
}

/** A share in [0, 1] as a whole percent: 0.643 -> "64%". */
function percent(value) {
  return `${Math.round(Math.min(1, Math.max(0, value)) * 100)}%`;
}

/** A number that is there and finite, else null (null and undefined are not 0). */
function finite(value) {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * The model line. One state, one message: the message of the state the model is in now, never
 * a word from another state next to it.
 * "model: none yet · <why>", "model: preparing… · <what and how far>", "model: training… · <message>"
 * (or the message alone when it already says it is training), "model: 87% CV accuracy on 120 labels",
 * "model: fitted on 4 labels", or "model error: <message>".
 */
export function modelStatusText(status) {
  const s = status || {};
  const message = typeof s.message === "string" ? s.message.trim() : "";
  const on = s.n_labels === null || s.n_labels === undefined ? "" : ` on ${count(s.n_labels)} labels`;
  switch (s.state) {
    case "preparing":
      return message ? `model: preparing… · ${message}` : "model: preparing…";
    case "training":
      if (/^(re)?training\b/i.test(message)) return `model: ${message}`;
      return message ? `model: training… · ${message}` : "model: training…";
    case "ready": {
      const acc = finite(s.accuracy);
      return acc === null ? `model: fitted${on}` : `model: ${percent(acc)} CV accuracy${on}`;
    }
    case "error":
      return `model error: ${message || "the model could not be fitted"}`;
    default:
      return message ? `model: none yet · ${message}` : "model: none yet";
  }
}

/**
 * How far the work of the model's current state is, in [0, 1], or null: only while the model is
 * preparing or training and `progress` is a number (a bar never lingers into another state).
 */
export function statusProgress(status) {
  const s = status || {};
  if (s.state !== "preparing" && s.state !== "training") return null;
  const done = finite(s.progress);
  return done === null ? null : Math.min(1, Math.max(0, done));
}

/** "model 64% accurate" from the suggestion's cross-validated accuracy, or "" when unknown. */
export function accuracyText(accuracy) {
  const acc = finite(accuracy);
  return acc === null ? "" : `model ${percent(acc)} accurate`;
}

/** Whether a suggestion is one the model is unsure of (its confidence is below the threshold). */
export function isWeak(suggestion) {
  return hasSuggestion(suggestion) && suggestion.weak === true;
}

/** "30 fields", "1 field". */
export function fieldCountText(n) {
  return `${count(n)} ${Number(n) === 1 ? "field" : "fields"}`;
}

/**
 * How many rows of a scrolled box are not wholly in view below its visible bottom.
 *
 * @param {number[]} rowBottoms each row's bottom edge (same coordinates as viewBottom)
 * @param {number} viewBottom the bottom edge of the box's visible area
 */
export function rowsBelow(rowBottoms, viewBottom) {
  return rowBottoms.filter((bottom) => bottom > viewBottom + 1).length;
}

/** What the hint next to the field count says: "scroll for 17 more", or "" when all are in view. */
export function moreFieldsText(hidden) {
  return hidden > 0 ? `scroll for ${count(hidden)} more` : "";
}

/** The strategies' one-sentence descriptions: only string values, by strategy name. */
export function strategyDescriptions(help) {
  const out = {};
  if (!help || typeof help !== "object" || Array.isArray(help)) return out;
  for (const [name, text] of Object.entries(help)) {
    if (typeof text === "string" && text.trim() !== "") out[name] = text.trim();
  }
  return out;
}

/** "1 label", "12 labels": how many records carry a label by hand. */
export function labelCountText(n) {
  return n === 1 ? "1 label" : `${count(n)} labels`;
}

/** What the dead card says. */
export const DEAD_TITLE = "This card's kernel is gone (restarted or stopped).";
export const DEAD_DETAIL = "Re-run the cell to label again. Keys on this card do nothing now.";

/** What the dead card adds when answers were still on their way: they are not in the store. */
export function unsavedText(unsaved) {
  const n = Number(unsaved) || 0;
  if (n <= 0) return "";
  const what = n === 1 ? "1 answer was" : `${count(n)} answers were`;
  return ` ${what} on the way and may not be saved: after re-running the cell, any not saved come back in the line.`;
}

/** Where labels go and whether all are there: "saving to labels.db · all saved" or "· 3 answers on their way". */
export function storeText(storePath, pending) {
  const path = typeof storePath === "string" ? storePath : "";
  if (!path) return "";
  const n = Number(pending) || 0;
  const state = n <= 0 ? "all saved" : n === 1 ? "1 answer on its way" : `${count(n)} answers on their way`;
  return `saving to ${path} · ${state}`;
}

/**
 * How many characters a line of the record holds in a box ``widthPx`` wide (about 7.5 px a character
 * at the card's font); CHARS_PER_LINE when the width is not known (not laid out yet).
 */
export function charsPerLine(widthPx) {
  const width = Number(widthPx);
  return Number.isFinite(width) && width > 0 ? Math.max(20, Math.floor(width / 7.5)) : CHARS_PER_LINE;
}

/** True when a text is likely taller than CLIP_LINES lines at ``perLine`` characters a line (notebook width). */
export function isLongText(text, perLine = CHARS_PER_LINE) {
  let lines = 0;
  for (const line of String(text).replace(/\s+$/, "").split("\n")) {
    lines += Math.max(1, Math.ceil(line.length / perLine));
    if (lines > CLIP_LINES) return true;
  }
  return false;
}

/** A label's confidence from its probability: 1 - its binary entropy in bits (0 at 0.5, 1 at 0 or 1). */
export function binaryConfidence(p) {
  const q = Math.min(1, Math.max(0, Number(p)));
  if (!Number.isFinite(q)) return 0;
  const h = (x) => (x > 0 ? -x * Math.log2(x) : 0);
  return Math.min(1, Math.max(0, 1 - h(q) - h(1 - q)));
}

/** Whether a suggestion is there to accept. */
export function hasSuggestion(suggestion) {
  return !!suggestion && suggestion.label !== null && suggestion.label !== undefined && suggestion.label !== "";
}

/** Why the record on the card cannot be shown as it is, or "" when it can. */
export function problemText(card) {
  return card && typeof card.problem === "string" ? card.problem.trim() : "";
}

/**
 * Whether a record is on the card (kinds "done", "empty" and a missing card are not).
 * A record that cannot be shown is still on the card: it can be labeled, skipped, undone.
 */
export function isActive(card) {
  if (!card) return false;
  if (card.kind === "text" || card.kind === "image" || card.kind === "table") return true;
  return problemText(card) !== "" && card.kind !== "done" && card.kind !== "empty";
}

function asList(value) {
  return Array.isArray(value) ? value : [];
}

function asText(value) {
  return value === null || value === undefined ? "" : String(value);
}

/** What the record area shows of a card, as one comparable string. */
function recordSignature(card) {
  return JSON.stringify([card.key, card.key_label, card.kind, card.text, card.fields, card.problem, card.reason,
    card.previous_label, card.given || null]);
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

// Made once: toLocaleTimeString with options builds a formatter at every call (about 75 µs), and
// the list of recent answers formats a time per row at every answer the kernel confirms.
const CLOCK_FORMAT = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
const DAY_FORMAT = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" });

/** "14:02" for a time today, "Dec 1, 14:02" before; "" for anything that is not a time. */
export function timeText(at, now = new Date()) {
  const when = new Date(typeof at === "string" ? at : NaN);
  if (Number.isNaN(when.getTime())) return "";
  const clock = CLOCK_FORMAT.format(when);
  if (when.toDateString() === new Date(now).toDateString()) return clock;
  return `${DAY_FORMAT.format(when)}, ${clock}`;
}

/** A label's guideline from the kernel's table, trimmed, or "". */
export function guidelineText(guidelines, label) {
  const text = guidelines && typeof guidelines === "object" ? guidelines[label] : null;
  return typeof text === "string" ? text.trim() : "";
}

function guidelineSuffix(guidelines, label) {
  const text = guidelineText(guidelines, label);
  return text ? ` · ${text}` : "";
}

/** "labeled bug · hand · by ana · 14:02": the label a record carries in review, and who gave it when. */
export function givenText(given) {
  if (!given || typeof given !== "object" || asText(given.label) === "") return "";
  const parts = [`labeled ${asText(given.label)}`];
  if (asText(given.source) !== "") parts.push(asText(given.source));
  if (asText(given.annotator) !== "") parts.push(`by ${asText(given.annotator)}`);
  const when = timeText(given.at);
  if (when) parts.push(when);
  return parts.join(" · ");
}

/** "reviewing likely label errors · 2 of 5", or "" while labeling. */
export function reviewText(review) {
  if (!review || typeof review !== "object" || !review.by) return "";
  const where = finite(review.index) !== null && finite(review.total) !== null
    ? ` · ${count(review.index)} of ${count(review.total)}` : "";
  return `reviewing ${asText(review.caption) || asText(review.by)}${where}`;
}

/** "3 labels look wrong", "1 label looks wrong", or "" when none (or before a cross-validated fit). */
export function issuesText(issues) {
  const n = finite(issues);
  if (n === null || n <= 0) return "";
  return n === 1 ? "1 label looks wrong" : `${count(n)} labels look wrong`;
}

/** One recent answer in a line: what it was and how it was answered (the snippet is shown beside it). */
/** A computed CSS colour ("rgb(33, 33, 33)") as "#212121"; null when it is not an opaque rgb colour. */
export function opaqueHex(css) {
  const match = /^rgba?\(\s*(\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\s*\)$/.exec(String(css || "").trim());
  if (!match || (match[4] !== undefined && Number(match[4]) < 1)) return null;
  return "#" + match.slice(1, 4).map((part) => Math.min(255, Number(part)).toString(16).padStart(2, "0")).join("");
}

/** What the card says of the records selected on the embedding map ("" when none). */
export function mapSelectionText(selection) {
  const n = Number(selection && selection.count);
  if (!Number.isFinite(n) || n <= 0) return "";
  const unlabeled = Number(selection.unlabeled);
  const open = Number.isFinite(unlabeled) ? unlabeled : n;
  const head = `${count(n)} ${n === 1 ? "record" : "records"} selected on the map`;
  if (open === 0) return `${head}, all labeled already`;
  return `${head}: ${count(open)} unlabeled, queued first`;
}

/** The question the card asks before labeling the map's selection at once. */
export function mapConfirmText(selection, label) {
  const open = Number(selection && selection.unlabeled) || 0;
  const kept = (Number(selection && selection.count) || 0) - open;
  return `Label ${count(open)} ${open === 1 ? "record" : "records"} "${label}" at once?`
    + (kept > 0 ? ` The ${count(kept)} labeled already keep their labels.` : "")
    + " One undo (z) takes them all back.";
}

export function recentText(answer) {
  const a = answer || {};
  if (a.action === "group") return `${count(a.count)} labels saved together (${asText(a.source) || "batch"})`;
  if (a.action === "skip") return "skipped";
  if (a.action === "reject") return "rejected";
  if (a.action === "note") return asText(a.note) ? `note: ${asText(a.note)}` : "note cleared";
  const was = asText(a.previous) !== "" ? ` (was ${asText(a.previous)})` : "";
  return `${asText(a.label)}${was}`;
}

/** A colour the card may paint with: "#rrggbb" only (anything else from the kernel is ignored). */
export function safeColor(value) {
  return typeof value === "string" && /^#[0-9a-fA-F]{6}$/.test(value) ? value : null;
}

/** The insights panel's plots, in tab order: the name the view keeps, the tab's text, what it shows. */
export const PLOTS = [
  { name: "confidence", caption: "confidence distribution",
    help: "how sure the model is on the unlabeled records, by the label it predicts" },
  { name: "coverage", caption: "embedding coverage",
    help: "which regions of the data have a labeled record nearby, and where the next picks lie" },
];

/** Keys that scroll a focused box of fields. */
const SCROLL_KEYS = new Set(["ArrowDown", "ArrowUp", "PageDown", "PageUp", "Home", "End", " "]);

/**
 * Create the card's DOM.
 *
 * @param {Document} doc
 * @param {object} actions callbacks for the buttons: label(name), skip(), reject(), undo(), retrain(),
 *   review(by or ""), revisit(key), note(key, text),
 *   strategy(name), toggleInsights(), showPlot(name), toggleKeymap(), toggleExpanded(),
 *   toggleFields(), closeOverlays().
 * @returns {{root: HTMLElement, render(state: object): void, showFailure(error: Error): void,
 *   dispose(): void}}
 */
export function createCard(doc, actions) {
  const el = (tag, props, children) => h(doc, tag, props, children);
  const kbd = (text) => el("kbd", { class: "al-kbd", text });
  /** A small square in the label's colour (the plots' colour for it), or null when it has none. */
  const swatch = (colors, label) => {
    const color = safeColor(colors && typeof colors === "object" ? colors[label] : null);
    if (color === null) return null;
    const node = el("span", { class: "al-swatch", "aria-hidden": "true" });
    node.style.backgroundColor = color;
    return node;
  };

  // header
  const progress = el("div", { class: "al-progress" });
  const statusText = el("span", { class: "al-status-text" });
  const statusBar = el("span", { class: "al-status-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", hidden: true });
  const statusFill = el("span", { class: "al-status-fill" });
  statusBar.append(statusFill);
  const status = el("div", { class: "al-status" }, [statusText, statusBar]);
  const select = el("select", { class: "al-select", "aria-label": "query strategy" });
  const retrain = el("button", { type: "button", class: "al-button", title: "retrain the model now (r)" }, [kbd("r"), "retrain"]);
  const insightsButton = el("button", { type: "button", class: "al-button", title: "plots (i)", "aria-pressed": "false" }, [kbd("i"), "insights"]);
  const keymapButton = el("button", { type: "button", class: "al-button al-help", title: "keys (?)", "aria-label": "key map", "aria-pressed": "false", text: "?" });
  const header = el("header", { class: "al-header" }, [
    el("div", { class: "al-header-row" }, [
      progress,
      el("div", { class: "al-controls" }, [retrain, insightsButton, keymapButton]),
    ]),
    el("div", { class: "al-header-row" }, [
      status,
      el("label", { class: "al-strategy" }, [
        el("span", { class: "al-muted", text: "strategy" }),
        el("span", { class: "al-select-wrap" }, [select]),
      ]),
    ]),
  ]);

  // trust: labels that look wrong, the stop hint, and the review menu
  const issuesButton = el("button", { type: "button", class: "al-link al-issues", hidden: true,
                                      title: "walk the labels the model's out-of-fold predictions dispute, most likely wrong first" });
  const stopLine = el("span", { class: "al-stop", hidden: true });
  const reviewSelect = el("select", { class: "al-select", "aria-label": "review order" });
  const checks = el("div", { class: "al-checks" }, [
    el("div", { class: "al-checks-text" }, [issuesButton, stopLine]),
    el("label", { class: "al-strategy al-review-menu", title: "walk labeled records again (v)" }, [
      el("span", { class: "al-muted", text: "review" }),
      el("span", { class: "al-select-wrap" }, [reviewSelect]),
    ]),
  ]);
  const reviewLabel = el("span", { class: "al-review-text" });
  const reviewHint = el("span", { class: "al-review-hint" }, [
    kbd("Enter"), " keeps the label · a label key changes it · ", kbd("z"), " walks back",
  ]);
  const leaveReview = el("button", { type: "button", class: "al-button", title: "back to labeling (v)" }, [kbd("v"), "back to labeling"]);
  const reviewBar = el("div", { class: "al-review", role: "status", hidden: true }, [
    el("div", { class: "al-review-row" }, [reviewLabel, leaveReview]), reviewHint,
  ]);

  // the records selected on the embedding map: queued first; label them all at once after a confirmation
  const mapText = el("span", { class: "al-map-text" });
  const mapChoices = el("span", { class: "al-map-choices", role: "group", "aria-label": "label the selection" });
  const mapClear = el("button", { type: "button", class: "al-link al-map-clear", text: "clear selection" });
  const mapBar = el("div", { class: "al-map-bar", role: "status", hidden: true }, [
    el("div", { class: "al-map-row" }, [mapText, mapClear]), mapChoices,
  ]);
  mapClear.addEventListener("click", () => actions.mapClear && actions.mapClear());

  // messages
  const deadDetail = el("span", { class: "al-dead-detail", text: DEAD_DETAIL });
  const deadBanner = el("div", { class: "al-dead", role: "alert", hidden: true }, [
    el("strong", { class: "al-dead-title", text: DEAD_TITLE }), " ", deadDetail,
  ]);
  const errorBanner = el("div", { class: "al-error", role: "alert", hidden: true });
  const noticeLine = el("div", { class: "al-notice", role: "status", hidden: true });

  // record
  const meta = el("div", { class: "al-meta" });
  const body = el("div", { class: "al-body" });
  const fields = el("div", { class: "al-fields", hidden: true });
  const record = el("section", { class: "al-record", "aria-label": "record" }, [meta, body, fields]);

  // suggestion, votes, buttons
  const suggestionSlot = el("div", { class: "al-suggestion", "aria-live": "polite" });
  const votes = el("div", { class: "al-votes", hidden: true });
  const labelButtons = el("div", { class: "al-labels", role: "group", "aria-label": "labels" });
  const skip = el("button", { type: "button", class: "al-button al-move", title: "skip (s)" }, [kbd("s"), "skip"]);
  const reject = el("button", { type: "button", class: "al-button al-move",
                                title: "reject: the record is unusable, out of training and the line (Delete)" },
  [kbd("Del"), "reject"]);
  const undo = el("button", { type: "button", class: "al-button al-move", title: "undo (z or Backspace)" }, [kbd("z"), "undo"]);
  // multi-label: the chosen labels are saved together (Enter)
  const save = el("button", { type: "button", class: "al-button al-move al-save", hidden: true,
                              title: "save the chosen labels for this record (Enter)" }, [kbd("Enter"), "save labels"]);
  const actionsRow = el("div", { class: "al-actions" }, [labelButtons, el("div", { class: "al-moves" }, [save, skip, reject, undo])]);
  // a note on the record on screen: saved when it changes (Enter or leaving the field)
  const noteField = el("input", { type: "text", class: "al-note-field", maxlength: "10000",
                                  placeholder: "note on this record (Enter saves)", "aria-label": "note on this record" });
  const noteRow = el("label", { class: "al-note", hidden: true }, [el("span", { class: "al-muted", text: "note" }), noteField]);
  let noteKey = "";

  // the newest answers: click one to bring its record back on the card
  const recentList = el("ol", { class: "al-recent-list" });
  const recent = el("section", { class: "al-recent", "aria-label": "recent answers", hidden: true }, [
    el("h3", { class: "al-section-title", text: "recent answers" }), recentList,
  ]);

  // insights, footer, key map
  const insights = el("section", { class: "al-insights", "aria-label": "insights", hidden: true });
  const storeLine = el("span", { class: "al-store" });
  const focusHint = el("span", { class: "al-focus-hint", text: "click the card to use the keys" });
  const footer = el("footer", { class: "al-footer" }, [storeLine, focusHint]);
  const keymap = el("section", { class: "al-keymap", "aria-label": "key map", hidden: true });

  const root = el("div", { class: "al-card", tabindex: "0", role: "group", "aria-label": "labeling card" }, [
    deadBanner, header, checks, keymap, errorBanner, noticeLine, reviewBar, mapBar, record, suggestionSlot, votes, actionsRow,
    noteRow, recent, insights, footer,
  ]);

  select.addEventListener("change", () => actions.strategy(select.value));
  retrain.addEventListener("click", () => actions.retrain());
  insightsButton.addEventListener("click", () => actions.toggleInsights());
  keymapButton.addEventListener("click", () => actions.toggleKeymap());
  save.addEventListener("click", () => actions.submit && actions.submit());
  skip.addEventListener("click", () => actions.skip());
  reject.addEventListener("click", () => actions.reject());
  noteField.addEventListener("change", () => actions.note(noteKey, noteField.value));
  undo.addEventListener("click", () => actions.undo());
  reviewSelect.addEventListener("change", () => actions.review(reviewSelect.value));
  issuesButton.addEventListener("click", () => actions.review("issues"));
  leaveReview.addEventListener("click", () => actions.review(""));

  const memo = {};
  /** Whether part `name` would redraw for `deps`: it never drew, or something it depends on changed. */
  function stale(name, deps) {
    return !memo[name] || !same(memo[name], deps);
  }

  /** Redraw a part only when what it depends on changed (traits keep identity until they change). */
  function part(name, deps, draw) {
    if (!stale(name, deps)) return;
    memo[name] = deps;
    draw();
  }

  /**
   * The strategy select. Its options and tooltips change with the kernel's traits only; the shown
   * value is put back at every draw, since the user may have picked one the kernel has not taken.
   */
  function drawSelect(strategies, strategy, help) {
    part("select", [strategies, strategy, help], () => {
      const names = asList(strategies).map(asText);
      if (strategy && !names.includes(strategy)) names.unshift(strategy);
      const current = Array.from(select.options, (o) => o.value);
      if (!same(current, names)) {
        select.replaceChildren(...names.map((name) => el("option", { value: name, text: name })));
      }
      select.disabled = names.length === 0;
      // each option's tooltip says what the strategy does; the select's says it for the one in use
      const descriptions = strategyDescriptions(help);
      for (const option of select.options) setAttr(option, "title", descriptions[option.value] || null);
      setAttr(select, "title", descriptions[strategy] ? `${strategy}: ${descriptions[strategy]}` : "query strategy");
    });
    if (select.value !== strategy) select.value = strategy;
  }

  function drawMeta(card, active) {
    const items = [];
    if (active && asText(card.key_label) !== "") items.push(el("span", { class: "al-key", title: `row ${card.key_label}`, text: `row ${card.key_label}` }));
    if (active && asText(card.previous_label) !== "") {
      items.push(el("span", { class: "al-was", text: `was: ${card.previous_label}` }));
    }
    const given = active ? givenText(card.given) : "";
    if (given) items.push(el("span", { class: "al-given-text", text: given }));
    if (active && asText(card.reason) !== "") {
      items.push(el("span", { class: "al-reason", text: `${card.review ? "in review" : "why this record"}: ${card.reason}` }));
    }
    meta.replaceChildren(...items);
    show(meta, items.length > 0);
  }

  function drawText(card, expanded) {
    const text = asText(card.text);
    // a narrow notebook wraps sooner: clip by the lines the text takes at the card's own width
    const long = isLongText(text, charsPerLine(recordWidth));
    const box = el("div", { class: "al-text" + (long ? (expanded ? " al-expanded" : " al-clipped") : ""), text });
    if (!long) return [box];
    const toggle = el("button", {
      type: "button",
      class: "al-link al-more",
      "aria-expanded": expanded ? "true" : "false",
      text: expanded ? "show less" : "show more",
    });
    toggle.addEventListener("click", () => actions.toggleExpanded());
    return [box, toggle];
  }

  function drawImage(card, imageUrl) {
    if (!imageUrl) return [el("div", { class: "al-image-placeholder", text: "no image for this record" })];
    const alt = asText(card.key_label) !== "" ? `image of row ${card.key_label}` : "record image";
    return [el("div", { class: "al-image-wrap" }, [el("img", { class: "al-image", src: imageUrl, alt })])];
  }

  /** Stands in for the text, image or table of a record that cannot be shown. */
  function drawProblem(problem) {
    return el("div", { class: "al-problem", role: "note" }, [
      el("span", { class: "al-placeholder-title", text: "this record cannot be shown" }),
      el("span", { class: "al-placeholder-detail", text: problem }),
    ]);
  }

  /** A field's name and value: a field is a [name, value] pair, or a bare name. */
  function nameAndValue(row) {
    return Array.isArray(row) ? row : [row, ""];
  }

  function fieldTable(rows, extraClass) {
    const tbody = el("tbody", {}, asList(rows).map((row) => {
      const [name, value] = nameAndValue(row);
      return el("tr", {}, [el("th", { scope: "row", text: asText(name) }), el("td", { text: asText(value) })]);
    }));
    return el("div", { class: "al-table-wrap " + extraClass, tabindex: "-1" }, [el("table", { class: "al-table" }, [tbody])]);
  }

  // The record's width, read when render() starts: the page is then still as the last frame laid it
  // out, so the read costs nothing. Read while the card is drawn (the draw has just changed the card)
  // it would force the browser to lay the page out at every key press, on top of the frame's own layout.
  let recordWidth = 0;

  // Boxes of fields on screen now, by the element that holds them (the record's body for a table
  // record, the extra fields' slot for the others). How many rows a box hides below its bottom is
  // only known after layout: measured when the box is laid out or changes size (a ResizeObserver
  // reports after the frame's own layout, so reading it is free), and on scroll. Measuring from a
  // frame callback instead would lay the new record out twice in the frame that shows it.
  const fieldBoxes = new Map();
  const win = doc.defaultView;
  const resizeObserver = win && typeof win.ResizeObserver === "function"
    ? new win.ResizeObserver(() => measureFields())
    : null;
  let measureQueued = false;
  // How the last box measured looked, by its shape: the next record's box of the same shape
  // starts so, and its measure then changes nothing (no second layout before the frame is painted).
  let lastLook = { shape: null, look: null };

  function measureFields() {
    measureQueued = false;
    for (const box of fieldBoxes.values()) box.measure();
  }

  function queueMeasure() {
    if (measureQueued || resizeObserver) return; // the observer reports each new box once laid out
    measureQueued = true;
    setTimeout(measureFields, 0);
  }

  /** Observe `target` anew: the browser reports its size after the next layout, changed or not. */
  function observeAnew(observer, target) {
    observer.unobserve(target);
    observer.observe(target);
  }

  /** Stop measuring the box of fields in `slot`, if there is one. */
  function forgetFieldBox(slot) {
    const box = fieldBoxes.get(slot);
    if (!box) return;
    box.unobserve();
    fieldBoxes.delete(slot);
  }

  /** Put `nodes` in `slot` in place of what it held, a box of fields included. */
  function replaceSlot(slot, ...nodes) {
    forgetFieldBox(slot);
    slot.replaceChildren(...nodes);
  }

  /**
   * Show `rows` in a box of fields in `slot`. The next record's fields, when they have the names
   * of the ones on screen (the rows of one DataFrame do), go into the box already there: the key
   * press that shows them changes text, not a table of elements built, styled and laid out anew.
   */
  function showFieldBox(slot, rows, extraClass, open) {
    const list = asList(rows);
    const shape = JSON.stringify([extraClass, open, recordWidth, list.map((row) => nameAndValue(row)[0])]);
    const kept = fieldBoxes.get(slot);
    if (kept && kept.shape === shape && kept.node.parentNode === slot) {
      kept.refill(list);
      return;
    }
    const box = fieldBox(list, extraClass, open, shape);
    replaceSlot(slot, box.node);
    fieldBoxes.set(slot, box);
  }

  /**
   * Fields in a scrolling box, with a line above it: how many there are, how many are out of
   * view below ("scroll for 17 more") and a show all / show fewer toggle while they do not fit.
   */
  function fieldBox(list, extraClass, open, shape) {
    const box = fieldTable(list, extraClass);
    const cells = Array.from(box.querySelectorAll("td"));
    let atTop = true; // the box's scroll position, as last measured (reading it while drawing would force a layout)
    const more = el("span", { class: "al-fields-more", hidden: true });
    const toggle = el("button", {
      type: "button",
      class: "al-link al-fields-toggle",
      "aria-expanded": open ? "true" : "false",
      text: open ? "show fewer" : "show all",
      hidden: !open,
    });
    toggle.addEventListener("click", () => actions.toggleFields());
    // where the view is in the box, drawn when the browser shows no scrollbar of its own
    // (overlay scrollbars hide until scrolled)
    const thumb = el("span", { class: "al-scroll-thumb" });
    const rail = el("span", { class: "al-scroll-cue", "aria-hidden": "true", hidden: true }, [thumb]);
    const head = el("div", { class: "al-fields-head", hidden: list.length < FIELD_COUNT_FROM && !open }, [
      el("span", { class: "al-fields-count", text: fieldCountText(list.length) }),
      more,
      toggle,
    ]);
    const node = el("div", { class: "al-fieldbox" + (open ? " al-fields-open" : "") }, [head, box, rail]);
    /** Only reads the laid-out box: what it shows, as plain values. */
    function read() {
      const clipped = box.scrollHeight > box.clientHeight + 1;
      let hidden = 0;
      if (clipped) {
        const viewBottom = box.getBoundingClientRect().top + box.clientTop + box.clientHeight;
        hidden = rowsBelow(Array.from(box.querySelectorAll("tr"), (tr) => tr.getBoundingClientRect().bottom), viewBottom);
      }
      const nativeBar = box.offsetWidth - box.clientWidth - 2 * box.clientLeft > 0;
      const look = { hidden, clipped, rail: clipped && !nativeBar };
      if (look.rail) {
        const height = box.clientHeight;
        const thumbHeight = Math.max(16, Math.round((height * height) / box.scrollHeight));
        const travel = Math.max(0, box.scrollHeight - height);
        look.railTop = `${box.offsetTop + box.clientTop}px`;
        look.railHeight = `${height}px`;
        look.thumbHeight = `${thumbHeight}px`;
        look.thumbTop = `${travel ? Math.round((box.scrollTop / travel) * (height - thumbHeight)) : 0}px`;
      }
      return look;
    }
    /** Only writes, and only what changes. */
    function apply(look) {
      setText(more, moreFieldsText(look.hidden));
      show(more, look.hidden > 0);
      node.classList.toggle("al-more-below", look.hidden > 0);
      node.classList.toggle("al-clipped-box", look.clipped);
      show(toggle, open || look.clipped);
      show(head, list.length >= FIELD_COUNT_FROM || look.clipped || open);
      show(rail, look.rail);
      if (look.rail) {
        setStyle(rail, "top", look.railTop);
        setStyle(rail, "height", look.railHeight);
        setStyle(thumb, "height", look.thumbHeight);
        setStyle(thumb, "top", look.thumbTop);
      }
    }
    function measure() {
      if (!node.isConnected) return;
      const look = read();
      apply(look);
      atTop = box.scrollTop === 0;
      if (atTop) lastLook = { shape, look }; // a new box starts scrolled to the top
    }
    /** The next record's values, for fields of the same names: shown from the top of the box. */
    function refill(rows) {
      rows.forEach((row, i) => setText(cells[i], asText(nameAndValue(row)[1])));
      // other values may wrap onto other lines and hide other rows at the same height: observed
      // anew, the table is measured once more after this frame's layout
      if (resizeObserver) observeAnew(resizeObserver, box.firstChild);
      if (atTop) return;
      box.scrollTop = 0; // its scroll event measures the box again, after the frame's layout
      atTop = true;
      if (lastLook.shape === shape) apply(lastLook.look); // until then, as it looked at the top
    }
    function unobserve() {
      if (resizeObserver) {
        resizeObserver.unobserve(box);
        resizeObserver.unobserve(box.firstChild);
      }
    }
    if (lastLook.shape === shape) apply(lastLook.look);
    box.addEventListener("scroll", measure, { passive: true });
    // the scroll event comes with the next frame: a key pressed before it must still find the box
    // scrolled, so that the next record's values are shown from the top
    const scrolled = () => { atTop = false; };
    box.addEventListener("wheel", scrolled, { passive: true });
    box.addEventListener("pointerdown", scrolled, { passive: true });
    // only the keys that scroll (the card's own keys never reach the box): a scroll write forces a layout
    box.addEventListener("keydown", (event) => { if (SCROLL_KEYS.has(event.key)) scrolled(); }, { passive: true });
    if (resizeObserver) {
      resizeObserver.observe(box);
      resizeObserver.observe(box.firstChild);
    }
    return { node, shape, measure, refill, unobserve };
  }

  // The record keeps the tallest height it has had at this width (for HOLD_RECORDS records after it
  // was last raised), so the suggestion and the buttons below it stay where they were from one
  // record to the next: a target does not jump under the pointer, and the frame that shows the next
  // record paints the record, not the whole card below it. Not while a record is opened in full
  // (show more, show all), nor while the insights or the keys panel is open (the user is looking at
  // the panel, and a held gap would push it down out of the window): closing them gives the room
  // back, and the height is learnt again from there.
  let heldHeight = { width: -1, height: 0, holding: false, records: 0 };
  let disposed = false; // a report asked for before dispose() must not observe the record again
  const recordObserver = win && typeof win.ResizeObserver === "function"
    ? new win.ResizeObserver((entries) => holdRecordHeight(entries[entries.length - 1].contentRect))
    : null;
  if (recordObserver) recordObserver.observe(record);

  function holdRecordHeight(box) {
    if (!heldHeight.holding) return;
    if (box.width !== heldHeight.width) {
      // another width wraps the text anew: let go, and hold what the next layout reports
      const first = heldHeight.width === -1;
      letGoOfHeight(box.width, true);
      if (!first) {
        // the browser reports a size only when it changes: ask for one after the next layout (not
        // from inside this report, which the browser would count as a loop)
        if (typeof win.requestAnimationFrame === "function") win.requestAnimationFrame(relearnRecordHeight);
        return;
      }
    }
    if (box.height > heldHeight.height + 0.5) {
      heldHeight.height = box.height;
      heldHeight.records = 0;
      setStyle(record, "minHeight", `${box.height}px`);
    }
  }

  /**
   * A new record is on screen. The height held lasts HOLD_RECORDS records after it was last raised:
   * a long record leaves room under the next few, not under every record after it (one synopsis of
   * 3,000 characters among one-line reviews kept 230 px empty under each of them). Then the height
   * is learnt again from the record on screen.
   */
  function recordShown() {
    if (!heldHeight.holding || heldHeight.height === 0) return;
    heldHeight.records += 1;
    if (heldHeight.records < HOLD_RECORDS) return;
    letGoOfHeight(heldHeight.width, true);
    relearnRecordHeight();
  }

  /** Let the held height go: the record takes its own height until `holding` holds one again. */
  function letGoOfHeight(width, holding) {
    heldHeight = { width, height: 0, holding, records: 0 };
    setStyle(record, "minHeight", "");
  }

  /** Have the browser report the record's size after the next layout, whether it changed or not. */
  function relearnRecordHeight() {
    if (recordObserver && !disposed) observeAnew(recordObserver, record);
  }

  /** Hold the record's height from now on (`holding`), or let it go. */
  function holdRecordHeightWhile(holding) {
    if (!holding && heldHeight.holding) letGoOfHeight(-1, false);
    // held again (a panel closed): learnt from the record as it is, not from the next one that
    // happens to change its size, which may be a shorter one
    if (holding && !heldHeight.holding) relearnRecordHeight();
    heldHeight.holding = holding;
  }

  function drawRecord(card, imageUrl, expanded, fieldsOpen) {
    const active = isActive(card);
    drawMeta(card || {}, active);
    record.dataset.kind = active ? card.kind : "done";
    if (!active) {
      const text = asText(card && card.text) || "Nothing to label.";
      replaceSlot(body, el("div", { class: "al-done", text }));
      replaceSlot(fields);
      show(fields, false);
      return;
    }
    const problem = problemText(card);
    const table = problem === "" && card.kind !== "text" && card.kind !== "image";
    if (table) showFieldBox(body, card.fields, "al-record-table", fieldsOpen);
    else if (problem !== "") replaceSlot(body, drawProblem(problem));
    else if (card.kind === "text") replaceSlot(body, ...drawText(card, expanded));
    else replaceSlot(body, ...drawImage(card, imageUrl));
    const extra = card.kind !== "table" ? asList(card.fields) : [];
    if (extra.length) showFieldBox(fields, extra, "al-extra-fields", fieldsOpen);
    else replaceSlot(fields);
    show(fields, extra.length > 0);
    queueMeasure();
  }

  function noSuggestion(...hint) {
    suggestionSlot.classList.add("al-muted");
    suggestionSlot.replaceChildren("no suggestion yet", ...hint);
  }

  /** "Suggestion: <label>", tagged weak (with why) below the threshold; the slot is styled to match. */
  function suggestionHead(suggestion, weakWhy) {
    const weak = isWeak(suggestion);
    suggestionSlot.classList.toggle("al-suggestion-weak", weak);
    const parts = ["Suggestion: ", el("strong", { class: "al-suggested-label", text: asText(suggestion.label) })];
    if (weak) parts.push(" ", el("span", { class: "al-tag al-tag-weak", title: weakWhy, text: "weak" }));
    return parts;
  }

  /** Multi-label: the suggested set (already chosen on the buttons) and its least sure label's confidence. */
  function drawSetSuggestion(suggestion) {
    if (!hasSuggestion(suggestion)) {
      noSuggestion(" — choose labels with their keys or buttons, ", kbd("Enter"), " saves them (none chosen: \"no label\")");
      return;
    }
    const confidence = finite(suggestion.confidence);
    const accuracy = accuracyText(suggestion.accuracy);
    const parts = suggestionHead(suggestion,
      "the model is unsure of at least one label here: its least sure label's confidence is below the threshold");
    if (confidence !== null) {
      parts.push(" · ", el("span", { title: "the confidence of the least sure label (1 - its binary entropy)",
                                     text: `confidence ${confidence.toFixed(2)}` }));
    }
    if (accuracy) parts.push(` · ${accuracy.replace("accurate", "micro-F1")}`);
    suggestionSlot.replaceChildren(...parts, " — suggested labels start chosen; ", kbd("Enter"), " saves the chosen ones");
  }

  function drawSuggestion(suggestion, active, given, multiLabel) {
    suggestionSlot.classList.remove("al-muted", "al-suggestion-weak");
    if (!active) {
      suggestionSlot.replaceChildren();
      return;
    }
    if (multiLabel && !(given && asText(given.label) !== "")) {
      drawSetSuggestion(suggestion);
      return;
    }
    if (given && asText(given.label) !== "") {
      // in review: what the model says of the record without having trained on its label
      const parts = [];
      if (hasSuggestion(suggestion)) {
        const agrees = asText(suggestion.label) === asText(given.label);
        const confidence = finite(suggestion.confidence);
        parts.push("The model says ", el("strong", { class: "al-suggested-label", text: asText(suggestion.label) }),
          confidence !== null ? ` (confidence ${confidence.toFixed(2)})` : "", agrees ? ", the same" : "", " — ");
      }
      parts.push(kbd("Enter"), ` keeps ${asText(given.label)}`);
      suggestionSlot.replaceChildren(...parts);
      return;
    }
    if (!hasSuggestion(suggestion)) {
      noSuggestion();
      return;
    }
    const weak = isWeak(suggestion);
    const confidence = finite(suggestion.confidence);
    const accuracy = accuracyText(suggestion.accuracy);
    const parts = suggestionHead(suggestion, "the model is unsure of this record: its confidence is below the threshold");
    if (confidence !== null) parts.push(` · confidence ${confidence.toFixed(2)}`);
    if (accuracy) parts.push(` · ${accuracy}`);
    // a weak suggestion takes a second Enter on the same card (the kernel asks for it)
    parts.push(" — ", kbd("Enter"), weak ? " twice to accept" : " to accept");
    suggestionSlot.replaceChildren(...parts);
  }

  function drawVotes(list, active) {
    const chips = asList(list).map((vote) => {
      const [name, label] = Array.isArray(vote) ? vote : [vote, null];
      const abstains = label === null || label === undefined || label === "";
      return el("span", {
        class: "al-chip" + (abstains ? " al-chip-abstain" : ""),
        text: abstains ? `${asText(name)}: abstains` : `${asText(name)}: ${label}`,
      });
    });
    votes.replaceChildren(...(chips.length ? [el("span", { class: "al-muted", text: "heuristics" }), ...chips] : []));
    show(votes, active && chips.length > 0);
  }

  /**
   * The label buttons, made once per set of labels, keys, colours and kind (toggles for label
   * sets) and then updated in place: a key press changes the suggestion and the counts on them,
   * and rebuilding them at every press was a quarter of the card's drawing.
   */
  let buttonSet = [];
  function labelButtonSet(labels, keyMap, colors, multiLabel) {
    part("buttonSet", [labels, keyMap, colors, multiLabel], () => {
      buttonSet = makeLabelButtons(labels, keyMap, colors, multiLabel);
      labelButtons.replaceChildren(...buttonSet.map((b) => b.button));
    });
    return buttonSet;
  }

  function makeLabelButtons(labels, keyMap, colors, multiLabel) {
    return asList(labels).map((raw) => {
      const label = asText(raw);
      const key = keyOf(keyMap, label);
      const check = multiLabel ? el("span", { class: "al-check", "aria-hidden": "true" }) : null;
      const button = el("button", { type: "button", "data-label": label }, [
        key !== null ? kbd(key) : null, check, swatch(colors, label), el("span", { class: "al-label-name", text: label }),
      ]);
      button.addEventListener("click", () => actions.label(raw));
      // the model's probability (label sets) and the count are there only when known: made once, put in and out
      return { label, key, button, check, p: el("span", { class: "al-label-p" }), count: el("span") };
    });
  }

  /** How many records carry the label by hand: shown on its button, and 0 stands out. */
  function drawCount(b, n) {
    place(b.button, b.count, n !== null);
    if (n === null) return;
    setText(b.count, count(n));
    setAttr(b.count, "class", "al-label-count" + (n === 0 ? " al-label-count-zero" : ""));
  }

  function countAt(counts, index) {
    return Number.isFinite(Number(counts[index])) ? Number(counts[index]) : null;
  }

  /**
   * Multi-label: one toggle per label (pressed = chosen), with its key, the model's probability for
   * it and how many records carry it by hand; the suggested labels are marked.
   */
  function drawToggles(labels, suggestion, active, perLabel, keyMap, colors, guidelines, chosen) {
    const suggested = hasSuggestion(suggestion) && Array.isArray(suggestion.labels) ? suggestion.labels.map(asText) : [];
    const probability = suggestion && suggestion.per_label && typeof suggestion.per_label === "object" ? suggestion.per_label : {};
    const counts = asList(perLabel);
    reject.disabled = !active;
    skip.disabled = !active;
    labelButtonSet(labels, keyMap, colors, true).forEach((b, index) => {
      const { label, key, button } = b;
      const on = active && chosen.includes(label);
      const p = finite(probability[label]);
      const n = countAt(counts, index);
      setAttr(button, "class", "al-button al-label al-toggle" + (on ? " al-chosen" : "")
        + (active && suggested.includes(label) ? " al-suggested" : ""));
      setAttr(button, "aria-pressed", String(on));
      setAttr(button, "title", `${on ? "take off" : "put on"} ${label}` + (key !== null ? ` (${key})` : "")
        + (p === null ? "" : ` · model: probability ${p.toFixed(2)}, confidence ${binaryConfidence(p).toFixed(2)}`)
        + (n === null ? "" : ` · ${labelCountText(n)} so far`)
        + guidelineSuffix(guidelines, label));
      button.disabled = !active;
      setText(b.check, on ? "✓" : "");
      place(button, b.p, p !== null && active, b.count);
      if (p !== null) setText(b.p, p.toFixed(2));
      drawCount(b, n);
    });
  }

  /** Label buttons, each with its key and how many records carry that label by hand (0 stands out). */
  function drawButtons(labels, suggestion, active, perLabel, given, keyMap, colors, guidelines, multiLabel, chosen) {
    show(save, !!multiLabel);
    save.disabled = !active;
    if (multiLabel) {
      drawToggles(labels, suggestion, active, perLabel, keyMap, colors, guidelines, asList(chosen).map(asText));
      return;
    }
    const givenLabel = given && asText(given.label) !== "" ? asText(given.label) : null;
    const suggested = hasSuggestion(suggestion) && givenLabel === null ? asText(suggestion.label) : null;
    const weak = isWeak(suggestion);
    const counts = asList(perLabel);
    reject.disabled = !active;
    labelButtonSet(labels, keyMap, colors, false).forEach((b, index) => {
      const { label, key, button } = b;
      const isSuggested = active && label === suggested;
      const n = countAt(counts, index);
      setAttr(button, "class", "al-button al-label" + (isSuggested ? (weak ? " al-suggested al-suggested-weak" : " al-suggested") : "")
        + (active && label === givenLabel ? " al-given" : ""));
      setAttr(button, "aria-pressed", givenLabel !== null ? String(active && label === givenLabel) : null);
      setAttr(button, "title", (key !== null ? `label as ${label} (${key})` : `label as ${label}`)
        + (n === null ? "" : ` · ${labelCountText(n)} so far`) + guidelineSuffix(guidelines, label));
      button.disabled = !active;
      drawCount(b, n);
    });
    skip.disabled = !active;
  }

  /** Labels that look wrong (a link into review), the stop hint, and the review menu. */
  function drawChecks(checksState, review, orders) {
    const c = checksState && typeof checksState === "object" ? checksState : {};
    const issues = issuesText(c.issues);
    issuesButton.textContent = issues ? `${issues}: review` : "";
    show(issuesButton, issues !== "");
    const message = asText(c.stop_message);
    stopLine.className = "al-stop" + (c.stop_ready ? " al-stop-ready" : " al-muted");
    stopLine.textContent = message ? (c.stop_ready ? `You could stop: ${message}` : `stop hint: ${message}`) : "";
    stopLine.title = message;
    show(stopLine, message !== "");
    const names = orders && typeof orders === "object" ? Object.entries(orders) : [];
    const wanted = [["", "off (labeling)"], ...names.map(([name, caption]) => [name, asText(caption)])];
    if (review && review.by && !wanted.some(([value]) => value === review.by)) {
      wanted.push([asText(review.by), asText(review.caption) || asText(review.by)]); // e.g. records chosen from the recent answers
    }
    const current = Array.from(reviewSelect.options, (o) => [o.value, o.textContent]);
    if (JSON.stringify(current) !== JSON.stringify(wanted)) {
      reviewSelect.replaceChildren(...wanted.map(([value, text]) => el("option", { value, text })));
    }
    const by = review && review.by ? asText(review.by) : "";
    if (reviewSelect.value !== by) reviewSelect.value = by;
  }

  /** The review banner, while the record on screen is one the review shows (the page may be ahead of the kernel). */
  function drawReview(review, onScreen) {
    const text = onScreen ? reviewText(review) : "";
    reviewLabel.textContent = text;
    show(reviewBar, text !== "");
    root.classList.toggle("al-reviewing", text !== "");
  }

  /** The newest answers, newest first; one still in the data comes back on the card when clicked. */
  function drawMapSelection(selection, choice, labels, colors) {
    const text = mapSelectionText(selection);
    show(mapBar, text !== "");
    if (text === "") return;
    mapText.textContent = text;
    const open = Number(selection.unlabeled) || 0;
    if (choice && choice.selection === selection.id) {
      const yes = el("button", { type: "button", class: "al-button al-map-confirm", text: `label ${count(open)}` });
      const no = el("button", { type: "button", class: "al-button", text: "cancel" });
      yes.addEventListener("click", () => actions.mapConfirm());
      no.addEventListener("click", () => actions.mapChoose(null));
      mapChoices.replaceChildren(el("span", { class: "al-map-question", text: mapConfirmText(selection, choice.label) }), yes, no);
      return;
    }
    if (open === 0) {
      mapChoices.replaceChildren();
      return;
    }
    const buttons = asList(labels).map(asText).map((label) => {
      const button = el("button", { type: "button", class: "al-button al-map-label", title: `label the selection "${label}"` },
        [swatch(colors, label), label]);
      button.addEventListener("click", () => actions.mapChoose(label));
      return button;
    });
    mapChoices.replaceChildren(el("span", { class: "al-muted", text: "label all as" }), ...buttons);
  }

  function drawRecent(list, colors) {
    const answers = asList(list);
    recentList.replaceChildren(...answers.map((a) => {
      const what = recentText(a);
      const when = timeText(a && a.at);
      const row = [
        el("span", { class: "al-recent-row", text: asText(a && a.key_label) !== "" ? `row ${a.key_label}` : "" }),
        el("span", { class: "al-recent-snippet", text: asText(a && a.snippet) }),
        el("span", { class: "al-recent-label" + (a && a.action === "skip" ? " al-muted" : "") }, [
          a && a.action === "label" ? swatch(colors, asText(a.label)) : null, what,
        ]),
        el("span", { class: "al-muted al-recent-meta", text: [a && a.action === "label" ? asText(a.source) : "", when].filter(Boolean).join(" · ") }),
      ];
      if (!a || !a.open || typeof a.key !== "string") return el("li", { class: "al-recent-item al-recent-closed" }, row);
      const button = el("button", {
        type: "button", class: "al-recent-item",
        title: a.action === "skip" ? `label row ${asText(a.key_label)} now` : `bring row ${asText(a.key_label)} back to change its label`,
      }, row);
      button.addEventListener("click", () => actions.revisit(a.key));
      return el("li", {}, [button]);
    }));
    show(recent, answers.length > 0);
  }

  /**
   * The insights panel: one plot at a time under a pair of tabs, so the record and the plot fit
   * in one window together at any notebook width (two plots stacked would not).
   */
  function drawInsights(open, confidenceUrl, coverageUrl, plotTab) {
    show(insights, open);
    insightsButton.setAttribute("aria-pressed", open ? "true" : "false");
    if (!open) {
      insights.replaceChildren();
      return;
    }
    const plots = PLOTS.map((plot, i) => ({ ...plot, url: [confidenceUrl, coverageUrl][i] })).filter((p) => p.url);
    if (!plots.length) {
      insights.replaceChildren(el("h3", { class: "al-section-title", text: "insights" }),
        el("p", { class: "al-muted", text: "plots appear after the first model fit" }));
      return;
    }
    const chosen = plots.some((p) => p.name === plotTab) ? plotTab : plots[0].name;
    const tabs = el("div", { class: "al-plot-tabs", role: "tablist", "aria-label": "plots" }, plots.map((p) => {
      const tab = el("button", { type: "button", class: "al-plot-tab", role: "tab", title: p.help,
                                 "aria-selected": p.name === chosen ? "true" : "false" }, [p.caption]);
      tab.addEventListener("click", () => actions.showPlot(p.name));
      return tab;
    }));
    const figures = plots.map((p) =>
      el("figure", { class: "al-plot", role: "tabpanel", "data-plot": p.name, hidden: p.name !== chosen }, [
        el("img", { src: p.url, alt: p.caption }),
        el("figcaption", { class: "al-muted", text: p.help }),
      ]));
    insights.replaceChildren(
      el("div", { class: "al-insights-head" }, [el("h3", { class: "al-section-title", text: "insights" }), tabs]),
      el("div", { class: "al-plots" }, figures));
  }

  function drawKeymap(open, labels, strategies, strategy, help, keyMap, colors, guidelines, multiLabel) {
    show(keymap, open);
    keymapButton.setAttribute("aria-pressed", open ? "true" : "false");
    if (!open) {
      keymap.replaceChildren();
      return;
    }
    const keys = (list, between) => list.flatMap((k, i) => (i === 0 ? [kbd(k)] : [between, kbd(k)]));
    const row = (list, what, between = " or ") => [el("dt", {}, keys(list, between)), el("dd", { text: what })];
    // every label with its key; one without a key is labeled by clicking its button
    const labelRows = asList(labels).flatMap((raw) => {
      const label = asText(raw);
      const key = keyOf(keyMap, label);
      const what = el("dd", {}, [swatch(colors, label),
        `${multiLabel ? "put on or take off" : "label as"} ${label}${key === null ? " (no key left)" : ""}`,
        guidelineText(guidelines, label) ? el("span", { class: "al-guideline", text: guidelineText(guidelines, label) }) : null]);
      return [key !== null ? el("dt", {}, [kbd(key)]) : el("dt", { class: "al-muted", text: "click" }), what];
    });
    const close = el("button", { type: "button", class: "al-link", text: "close (Esc)" });
    close.addEventListener("click", () => actions.closeOverlays());
    // what each strategy does, for the strategies the select offers (all described ones if none)
    const descriptions = strategyDescriptions(help);
    const offered = asList(strategies).map(asText);
    const described = (offered.length ? offered : Object.keys(descriptions)).filter((name) => descriptions[name]);
    const strategyRows = described.flatMap((name) => [
      el("dt", { class: name === strategy ? "al-current" : null }, [
        el("code", { class: "al-strategy-name", text: name }),
        name === strategy ? el("span", { class: "al-in-use", text: "in use" }) : null,
      ]),
      el("dd", { text: descriptions[name] }),
    ]);
    keymap.replaceChildren(
      el("div", { class: "al-keymap-head" }, [el("h3", { class: "al-section-title", text: "keys" }), close]),
      el("div", { class: "al-keymap-body" }, [
        labelRows.length ? el("dl", { class: "al-keylist al-keylabels" }, labelRows) : null,
        el("dl", { class: "al-keylist al-keycommands" }, keymapRows(multiLabel).flatMap(({ shown, does, between }) => row(shown, does, between))),
      ]),
      strategyRows.length
        ? el("div", { class: "al-keymap-strategies" }, [
            el("h3", { class: "al-section-title", text: "strategies" }),
            el("dl", { class: "al-keylist al-strategylist" }, strategyRows),
          ])
        : null,
    );
  }

  /**
   * Draw a state.
   *
   * @param {object} s card, labels, keyMap (label -> key), labelColors (label -> "#rrggbb"), guidelines
 *   (label -> text), progress, suggestion, modelStatus, votes, strategy,
   *   strategies, strategyHelp, storePath, error, notice (the synced traits); imageUrl (a data: or
   *   blob: URL, or null), confidenceUrl, coverageUrl (object URLs or null); insightsOpen, plotTab, keymapOpen,
   *   expanded, fieldsOpen (local view state); recent, review, reviewOrders, checks (the recent answers,
 *   the review in progress, the review orders, and the label checks); pending (answers on their way to the kernel); dead (the
   *   kernel behind the card is gone) and unsaved (answers it never committed).
   */
  function render(s) {
    const card = s.card && typeof s.card === "object" ? s.card : {};
    // by what it shows, not by object: the page's line and the kernel bring new objects for one record
    const recordDeps = [recordSignature(card), s.imageUrl, !!s.expanded, !!s.fieldsOpen];
    // Only a render that redraws the record needs its width, and reads it before changing anything
    // (see recordWidth). Most of the kernel's messages change the progress or the recent answers
    // only, and arrive after other scripts of the page changed it: a read then would force a layout.
    if (stale("record", recordDeps)) recordWidth = record.clientWidth;
    const active = isActive(card);
    const dead = !!s.dead;
    part("progress", [s.progress], () => { progress.textContent = progressText(s.progress); });
    part("status", [s.modelStatus], () => {
      statusText.textContent = modelStatusText(s.modelStatus);
      const state = (s.modelStatus && s.modelStatus.state) || "none";
      status.className = `al-status al-status-${state}`;
      const done = statusProgress(s.modelStatus);
      show(statusBar, done !== null);
      if (done !== null) {
        statusFill.style.width = `${(done * 100).toFixed(1)}%`;
        statusBar.setAttribute("aria-valuenow", String(Math.round(done * 100)));
        statusBar.setAttribute("title", `${percent(done)} done`);
      } else {
        statusBar.removeAttribute("aria-valuenow");
        statusBar.removeAttribute("title");
      }
    });
    drawSelect(s.strategies, asText(s.strategy), s.strategyHelp);
    part("error", [s.error], () => {
      errorBanner.textContent = asText(s.error);
      show(errorBanner, asText(s.error) !== "");
    });
    part("notice", [s.notice], () => {
      noticeLine.textContent = asText(s.notice);
      show(noticeLine, asText(s.notice) !== "");
    });
    holdRecordHeightWhile(active && !s.expanded && !s.fieldsOpen && !s.insightsOpen && !s.keymapOpen);
    part("shown", [active ? card.key : ""], () => recordShown());
    part("record", recordDeps, () => drawRecord(card, s.imageUrl, !!s.expanded, !!s.fieldsOpen));
    const given = card.review ? card.given : null;
    part("suggestion", [s.suggestion, active, given, !!s.multiLabel], () =>
      drawSuggestion(s.suggestion, active, given, !!s.multiLabel));
    part("votes", [s.votes, active], () => drawVotes(s.votes, active));
    const perLabel = s.progress && s.progress.per_label;
    const chosen = asList(s.chosen).map(asText).join("\u0000");
    part("buttons", [s.labels, s.suggestion, active, perLabel, given, s.keyMap, s.labelColors, s.guidelines,
      !!s.multiLabel, chosen], () => drawButtons(s.labels, s.suggestion, active, perLabel, given, s.keyMap,
      s.labelColors, s.guidelines, !!s.multiLabel, s.chosen));
    part("checks", [s.checks, s.review, s.reviewOrders], () => drawChecks(s.checks, s.review, s.reviewOrders));
    part("review", [s.review, !!card.review], () => drawReview(s.review, !!card.review));
    part("recent", [s.recent, s.labelColors], () => drawRecent(s.recent, s.labelColors));
    part("map", [s.mapSelection, s.mapChoice, s.labels, s.labelColors], () =>
      drawMapSelection(s.mapSelection || {}, s.mapChoice, s.labels, s.labelColors));
    // the note follows the record on screen; while the user types in it, a sync does not overwrite it
    part("note", [active ? card.key : "", asText(card.note)], () => {
      show(noteRow, active);
      if (card.key !== noteKey || doc.activeElement !== noteField) noteField.value = asText(card.note);
      noteKey = active ? asText(card.key) : "";
    });
    part("insights", [!!s.insightsOpen, s.confidenceUrl, s.coverageUrl, s.plotTab], () =>
      drawInsights(!!s.insightsOpen, s.confidenceUrl, s.coverageUrl, s.plotTab));
    part("keymap", [!!s.keymapOpen, s.labels, s.strategies, s.strategy, s.strategyHelp, s.keyMap, s.labelColors,
      s.guidelines, !!s.multiLabel], () => drawKeymap(!!s.keymapOpen, s.labels, s.strategies, asText(s.strategy),
      s.strategyHelp, s.keyMap, s.labelColors, s.guidelines, !!s.multiLabel));
    part("store", [s.storePath, s.pending], () => { storeLine.textContent = storeText(s.storePath, s.pending); });
    part("dead", [dead, s.unsaved], () => { deadDetail.textContent = DEAD_DETAIL + (dead ? unsavedText(s.unsaved) : ""); });
    // A dead card keeps what it showed, dimmed, under a banner that says why nothing works.
    root.classList.toggle("al-card-dead", dead);
    show(deadBanner, dead);
    show(focusHint, !dead);
    if (dead) {
      root.setAttribute("aria-disabled", "true");
      for (const control of root.querySelectorAll("button, select")) control.disabled = true;
    } else {
      root.removeAttribute("aria-disabled");
    }
  }

  /** Show that drawing failed, so the error is not lost inside a change callback. */
  function showFailure(error) {
    errorBanner.textContent = `The card could not draw this state: ${error && error.message ? error.message : error}`;
    show(errorBanner, true);
    for (const name of Object.keys(memo)) delete memo[name];
  }

  /** Stop watching the size of the field boxes and of the record. */
  function dispose() {
    disposed = true;
    for (const slot of Array.from(fieldBoxes.keys())) forgetFieldBox(slot);
    if (recordObserver) recordObserver.disconnect();
  }

  return { root, render, showFailure, dispose };
}
