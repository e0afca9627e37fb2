// Drawing the card: state in, DOM out. Every node is built with createElement and
// every string set as textContent (see dom.js); records are untrusted.
// Buttons call the `actions` given to createCard; nothing here decides what comes next.

import { h, show } from "./dom.js";
import { KEYED_LABELS, keyForLabel, keymapRows } from "./keys.js";

/** Lines of record text shown before "show more". */
export const CLIP_LINES = 12;
/** Characters per line assumed when estimating how tall a text will be. */
const CHARS_PER_LINE = 90;

const number = new Intl.NumberFormat("en-US");

function count(value) {
  const n = Number(value);
  return number.format(Number.isFinite(n) ? n : 0);
}

/** "412 / 5,000 labeled · 23 this session · 2 skipped" */
export function progressText(progress) {
  const p = progress || {};
  return `${count(p.labeled)} / ${count(p.total)} labeled · ${count(p.session)} this session · ${count(p.skipped)} skipped`;
}

/** The model line: "model: none yet", "model: training…", "model: 0.87 CV accuracy on 120 labels", or the error. */
export function modelStatusText(status) {
  const s = status || {};
  const message = typeof s.message === "string" ? s.message.trim() : "";
  const on = s.n_labels === null || s.n_labels === undefined ? "" : ` on ${count(s.n_labels)} labels`;
  switch (s.state) {
    case "training":
      return message ? `model: training… · ${message}` : "model: training…";
    case "ready": {
      const acc = Number(s.accuracy);
      if (s.accuracy !== null && s.accuracy !== undefined && Number.isFinite(acc)) {
        return `model: ${acc.toFixed(2)} CV accuracy${on}`;
      }
      return `model: fitted${on}`;
    }
    case "error":
      return `model error: ${message || "the model could not be fitted"}`;
    default:
      return message ? `model: none yet · ${message}` : "model: none yet";
  }
}

/** True when a text is likely taller than CLIP_LINES lines at notebook width. */
export function isLongText(text) {
  let lines = 0;
  for (const line of String(text).replace(/\s+$/, "").split("\n")) {
    lines += Math.max(1, Math.ceil(line.length / CHARS_PER_LINE));
    if (lines > CLIP_LINES) return true;
  }
  return false;
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

function same(a, b) {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

/**
 * Create the card's DOM.
 *
 * @param {Document} doc
 * @param {object} actions callbacks for the buttons: label(name), skip(), undo(), retrain(),
 *   strategy(name), toggleInsights(), toggleKeymap(), toggleExpanded(), closeOverlays().
 * @returns {{root: HTMLElement, render(state: object): void, showFailure(error: Error): void}}
 */
export function createCard(doc, actions) {
  const el = (tag, props, children) => h(doc, tag, props, children);
  const kbd = (text) => el("kbd", { class: "al-kbd", text });

  // header
  const progress = el("div", { class: "al-progress" });
  const status = el("div", { class: "al-status" });
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

  // messages
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
  const undo = el("button", { type: "button", class: "al-button al-move", title: "undo (z or Backspace)" }, [kbd("z"), "undo"]);
  const actionsRow = el("div", { class: "al-actions" }, [labelButtons, el("div", { class: "al-moves" }, [skip, undo])]);

  // insights, footer, key map
  const insights = el("section", { class: "al-insights", "aria-label": "insights", hidden: true });
  const storeLine = el("span", { class: "al-store" });
  const footer = el("footer", { class: "al-footer" }, [
    storeLine,
    el("span", { class: "al-focus-hint", text: "click the card to use the keys" }),
  ]);
  const keymap = el("section", { class: "al-keymap", "aria-label": "key map", hidden: true });

  const root = el("div", { class: "al-card", tabindex: "0", role: "group", "aria-label": "labeling card" }, [
    header, keymap, errorBanner, noticeLine, record, suggestionSlot, votes, actionsRow, insights, footer,
  ]);

  select.addEventListener("change", () => actions.strategy(select.value));
  retrain.addEventListener("click", () => actions.retrain());
  insightsButton.addEventListener("click", () => actions.toggleInsights());
  keymapButton.addEventListener("click", () => actions.toggleKeymap());
  skip.addEventListener("click", () => actions.skip());
  undo.addEventListener("click", () => actions.undo());

  const memo = {};
  /** Redraw a part only when what it depends on changed (traits keep identity until they change). */
  function part(name, deps, draw) {
    if (memo[name] && same(memo[name], deps)) return;
    memo[name] = deps;
    draw();
  }

  function drawSelect(strategies, strategy) {
    const names = asList(strategies).map(asText);
    if (strategy && !names.includes(strategy)) names.unshift(strategy);
    const current = Array.from(select.options, (o) => o.value);
    if (!same(current, names)) {
      select.replaceChildren(...names.map((name) => el("option", { value: name, text: name })));
    }
    if (select.value !== strategy) select.value = strategy;
    select.disabled = names.length === 0;
  }

  function drawMeta(card, active) {
    const items = [];
    if (active && asText(card.key_label) !== "") items.push(el("span", { class: "al-key", title: `row ${card.key_label}`, text: `row ${card.key_label}` }));
    if (active && asText(card.previous_label) !== "") {
      items.push(el("span", { class: "al-was", text: `was: ${card.previous_label}` }));
    }
    if (active && asText(card.reason) !== "") items.push(el("span", { class: "al-reason", text: `why this record: ${card.reason}` }));
    meta.replaceChildren(...items);
    show(meta, items.length > 0);
  }

  function drawText(card, expanded) {
    const text = asText(card.text);
    const long = isLongText(text);
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

  function fieldTable(rows, extraClass) {
    const tbody = el("tbody", {}, asList(rows).map((row) => {
      const [name, value] = Array.isArray(row) ? row : [row, ""];
      return el("tr", {}, [el("th", { scope: "row", text: asText(name) }), el("td", { text: asText(value) })]);
    }));
    return el("div", { class: "al-table-wrap " + extraClass }, [el("table", { class: "al-table" }, [tbody])]);
  }

  function drawRecord(card, imageUrl, expanded) {
    const active = isActive(card);
    drawMeta(card || {}, active);
    record.dataset.kind = active ? card.kind : "done";
    if (!active) {
      const text = asText(card && card.text) || "Nothing to label.";
      body.replaceChildren(el("div", { class: "al-done", text }));
      fields.replaceChildren();
      show(fields, false);
      return;
    }
    const problem = problemText(card);
    if (problem !== "") body.replaceChildren(drawProblem(problem));
    else if (card.kind === "text") body.replaceChildren(...drawText(card, expanded));
    else if (card.kind === "image") body.replaceChildren(...drawImage(card, imageUrl));
    else body.replaceChildren(fieldTable(card.fields, "al-record-table"));
    const extra = card.kind !== "table" ? asList(card.fields) : [];
    fields.replaceChildren(...(extra.length ? [fieldTable(extra, "al-extra-fields")] : []));
    show(fields, extra.length > 0);
  }

  function drawSuggestion(suggestion, active) {
    suggestionSlot.classList.remove("al-muted");
    if (!active) {
      suggestionSlot.replaceChildren();
      return;
    }
    if (!hasSuggestion(suggestion)) {
      suggestionSlot.classList.add("al-muted");
      suggestionSlot.replaceChildren("no suggestion yet");
      return;
    }
    const confidence = Number(suggestion.confidence);
    const parts = ["Suggestion: ", el("strong", { class: "al-suggested-label", text: asText(suggestion.label) })];
    if (Number.isFinite(confidence)) parts.push(` · confidence ${confidence.toFixed(2)}`);
    parts.push(" — ", kbd("Enter"), " to accept");
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

  function drawButtons(labels, suggestion, active) {
    const suggested = hasSuggestion(suggestion) ? asText(suggestion.label) : null;
    labelButtons.replaceChildren(...asList(labels).map((raw, index) => {
      const label = asText(raw);
      const isSuggested = active && label === suggested;
      const key = keyForLabel(index);
      const button = el("button", {
        type: "button",
        class: "al-button al-label" + (isSuggested ? " al-suggested" : ""),
        "data-label": label,
        title: key !== null ? `label as ${label} (${key})` : `label as ${label}`,
        disabled: !active,
      }, [key !== null ? kbd(key) : null, el("span", { class: "al-label-name", text: label })]);
      button.addEventListener("click", () => actions.label(raw));
      return button;
    }));
    skip.disabled = !active;
  }

  function drawInsights(open, confidenceUrl, coverageUrl) {
    show(insights, open);
    insightsButton.setAttribute("aria-pressed", open ? "true" : "false");
    if (!open) {
      insights.replaceChildren();
      return;
    }
    const plots = [
      [confidenceUrl, "confidence distribution"],
      [coverageUrl, "embedding coverage"],
    ].filter(([url]) => url);
    const content = plots.length
      ? el("div", { class: "al-plots" }, plots.map(([url, caption]) =>
          el("figure", { class: "al-plot" }, [
            el("img", { src: url, alt: caption }),
            el("figcaption", { class: "al-muted", text: caption }),
          ])))
      : el("p", { class: "al-muted", text: "plots appear after the first model fit" });
    insights.replaceChildren(el("h3", { class: "al-section-title", text: "insights" }), content);
  }

  function drawKeymap(open, labels) {
    show(keymap, open);
    keymapButton.setAttribute("aria-pressed", open ? "true" : "false");
    if (!open) {
      keymap.replaceChildren();
      return;
    }
    const keys = (list, between) => list.flatMap((k, i) => (i === 0 ? [kbd(k)] : [between, kbd(k)]));
    const row = (list, what, between = " or ") => [el("dt", {}, keys(list, between)), el("dd", { text: what })];
    const labelRows = asList(labels).slice(0, KEYED_LABELS).flatMap((label, index) => row([keyForLabel(index)], asText(label)));
    const close = el("button", { type: "button", class: "al-link", text: "close (Esc)" });
    close.addEventListener("click", () => actions.closeOverlays());
    keymap.replaceChildren(
      el("div", { class: "al-keymap-head" }, [el("h3", { class: "al-section-title", text: "keys" }), close]),
      el("div", { class: "al-keymap-body" }, [
        el("dl", { class: "al-keylist" }, keymapRows().flatMap(({ shown, does, between }) => row(shown, does, between))),
        labelRows.length ? el("dl", { class: "al-keylist al-keylabels" }, labelRows) : null,
      ]),
    );
  }

  /**
   * Draw a state.
   *
   * @param {object} s card, labels, progress, suggestion, modelStatus, votes, strategy,
   *   strategies, storePath, error, notice (the synced traits); imageUrl, confidenceUrl,
   *   coverageUrl (object URLs or null); insightsOpen, keymapOpen, expanded (local view state).
   */
  function render(s) {
    const card = s.card && typeof s.card === "object" ? s.card : {};
    const active = isActive(card);
    part("progress", [s.progress], () => { progress.textContent = progressText(s.progress); });
    part("status", [s.modelStatus], () => {
      status.textContent = modelStatusText(s.modelStatus);
      const state = (s.modelStatus && s.modelStatus.state) || "none";
      status.className = `al-status al-status-${state}`;
    });
    drawSelect(s.strategies, asText(s.strategy));
    part("error", [s.error], () => {
      errorBanner.textContent = asText(s.error);
      show(errorBanner, asText(s.error) !== "");
    });
    part("notice", [s.notice], () => {
      noticeLine.textContent = asText(s.notice);
      show(noticeLine, asText(s.notice) !== "");
    });
    part("record", [card, s.imageUrl, !!s.expanded], () => drawRecord(card, s.imageUrl, !!s.expanded));
    part("suggestion", [s.suggestion, active], () => drawSuggestion(s.suggestion, active));
    part("votes", [s.votes, active], () => drawVotes(s.votes, active));
    part("buttons", [s.labels, s.suggestion, active], () => drawButtons(s.labels, s.suggestion, active));
    part("insights", [!!s.insightsOpen, s.confidenceUrl, s.coverageUrl], () =>
      drawInsights(!!s.insightsOpen, s.confidenceUrl, s.coverageUrl));
    part("keymap", [!!s.keymapOpen, s.labels], () => drawKeymap(!!s.keymapOpen, s.labels));
    part("store", [s.storePath], () => {
      storeLine.textContent = asText(s.storePath) ? `saving to ${s.storePath}` : "";
    });
  }

  /** Show that drawing failed, so the error is not lost inside a change callback. */
  function showFailure(error) {
    errorBanner.textContent = `The card could not draw this state: ${error && error.message ? error.message : error}`;
    show(errorBanner, true);
    for (const name of Object.keys(memo)) delete memo[name];
  }

  return { root, render, showFailure };
}
