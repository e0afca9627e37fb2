// The anywidget module: wire the model to the card. Reads synced traits, draws them, and
// sends intents (docs/protocol.md). The record on screen comes from the page's short line
// (line.js): a key press shows the next record at once and sends the answer for the one seen.

import { createCard, hasSuggestion, isActive, opaqueHex } from "./card.js";
import { commandForKey, isFormField } from "./keys.js";
import { createImageShelf, createUrlSlot } from "./codecs.js";
import { createPageLine } from "./line.js";

/** Traits that feed the page's line. */
const LINE_TRAITS = ["card", "image", "suggestion", "votes", "upcoming", "answered"];

/** The page's line when the kernel does not say (`preload=` of the labeler). */
const DEFAULT_PRELOAD = 8;

/**
 * How many records after the one on screen have their pictures loaded and decoded ahead: the line
 * the user asked for (`preload`), not the deeper one a lagging kernel sends. A browser that stalls
 * delivers its queued presses as a burst, and a picture first asked for as its record comes on
 * screen is not there in that frame.
 */
export function imagesAhead(preload) {
  const n = Number(preload);
  return Number.isInteger(n) && n >= 1 ? n - 1 : DEFAULT_PRELOAD - 1;
}

/** How many records answered last keep their pictures ready, so an undo shows its record's at once. */
const IMAGES_BEHIND = 2;

/** What the card shows while the page has answered every record it held and the next are on their way. */
const ON_ITS_WAY = { key: "", key_label: "", kind: "empty", text: "The next record is on its way…", fields: [], problem: "", reason: "" };

/** A view id that is new for every drawn card (answers are numbered per view). */
function newViewId() {
  const random = globalThis.crypto && typeof globalThis.crypto.randomUUID === "function"
    ? globalThis.crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `view-${random}`;
}

/** The class the widget framework puts on a view whose model lost its kernel. */
const DISCONNECTED_CLASS = "jupyter-widgets-disconnected";

/**
 * Whether the model says its link to the kernel is gone, or null when it cannot tell.
 * Widget models keep `comm_live`; a view of a model that lost its link carries the
 * disconnected class (set before this card hears the event).
 */
export function commIsGone(model, el) {
  if (typeof model.comm_live === "boolean") return !model.comm_live;
  if (el && typeof el.closest === "function" && el.closest(`.${DISCONNECTED_CLASS}`)) return true;
  return null;
}

function render({ model, el }) {
  const doc = el.ownerDocument || document;
  const win = doc.defaultView || window;
  const view = {
    insightsOpen: false, plotTab: "confidence", keymapOpen: false, expandedKey: undefined, fieldsKey: undefined,
    dead: false, armedKey: undefined, notice: "",
    chosen: { key: undefined, labels: [] }, // multi-label: the labels toggled on the record on screen
  };
  const line = createPageLine(newViewId(), () => win.performance.now());
  const images = createImageShelf(() => (typeof win.Image === "function" ? new win.Image() : null));
  const confidencePlot = createUrlSlot("image/png");
  const coveragePlot = createUrlSlot("image/png");
  let disposed = false;
  let answersTimer; // lets the answers waiting on ANSWERS_APART_MS go when no press comes first

  /** The record on screen: the page line's, or the kernel's word when the page holds none. */
  function currentCard() {
    const screen = line.screen();
    return screen && typeof screen === "object" ? screen : ON_ITS_WAY;
  }

  function lineTraits() {
    return Object.fromEntries(LINE_TRAITS.map((name) => [name, model.get(name)]));
  }

  /** Send one message; a send that fails means the kernel is gone. Returns whether it left. */
  function post(content) {
    if (disposed || view.dead || content === null) return false;
    try {
      model.send(content);
      return true;
    } catch (error) {
      die(error);
      return false;
    }
  }

  /** Send an intent that acts on the session, not on a record (retrain, strategy). */
  function send(action, extra = {}) {
    sendAnswers(true); // the answers pressed before it reach the kernel first, as pressed
    const card = currentCard();
    post({ action, key: card.key || null, token: card.token ?? null, ...extra });
  }

  /**
   * Answer the record on screen from the page's line: the next record shows at once. Enter on
   * a weak suggestion only arms it: a second Enter on the same record accepts (docs/protocol.md).
   */
  function answer(action, label) {
    if (disposed || view.dead) return;
    const card = currentCard();
    view.notice = "";
    if (action === "accept") {
      const s = card.suggestion || {};
      // armed for this record and this suggestion: a fit that changes the suggestion asks again
      const armed = `${card.key}\u0000${s.label}`;
      if (s.weak === true && view.armedKey !== armed && !model.get("multi_label")) {
        view.armedKey = armed;
        const confidence = Number.isFinite(Number(s.confidence)) ? Number(s.confidence).toFixed(2) : "?";
        view.notice = `Weak suggestion (${s.label}, confidence ${confidence}): press Enter again to accept it, `
          + "or press the key of the right label.";
        draw();
        return;
      }
    }
    view.armedKey = undefined;
    const intent = action === "undo" ? line.undo() : line.answer(action, label);
    if (intent === null) return;
    sendAnswers();
    draw();
    prepareImagesAfterFrame();
  }

  /**
   * Send the answers the page's line lets go now: alone, or those pressed while earlier ones were
   * unsettled together as one `answers` message. Answers that could not leave (the kernel is
   * gone) are taken back: the card keeps the record whose answer never left.
   */
  function sendAnswers(force = false) {
    const batch = line.outgoing(force);
    if (batch.length && !post(batch.length === 1 ? batch[0] : { action: "answers", answers: batch })) {
      for (const intent of batch.slice().reverse()) line.retract(intent);
      draw(); // the card shows the record whose answer never left (a timer's send has no draw after it)
    }
    win.clearTimeout(answersTimer);
    const wait = disposed ? null : line.leavesIn();
    answersTimer = wait === null ? undefined : win.setTimeout(() => sendAnswers(), wait);
  }
  /**
   * Multi-label: the labels chosen on the record on screen. A record starts with the suggested set
   * chosen (so Enter accepts it), or in review with the set it carries, or with none.
   */
  function chosenOn(card) {
    if (view.chosen.key !== card.key) {
      const given = card.review && card.given && Array.isArray(card.given.labels) ? card.given.labels : null;
      const suggested = card.suggestion && Array.isArray(card.suggestion.labels) ? card.suggestion.labels : [];
      view.chosen = { key: card.key, labels: (given || suggested).slice() };
    }
    return view.chosen.labels;
  }

  /** Multi-label: put a label on the record on screen, or take it off. */
  function toggleLabel(label) {
    const card = currentCard();
    if (disposed || view.dead || !isActive(card)) return;
    const chosen = chosenOn(card);
    view.chosen.labels = chosen.includes(label) ? chosen.filter((name) => name !== label) : chosen.concat([label]);
    view.armedKey = undefined;
    draw();
  }

  /** Multi-label: save the chosen set (as accepting the suggestion or keeping the reviewed set when unchanged). */
  function submitChosen() {
    const card = currentCard();
    if (!isActive(card)) return;
    const labels = model.get("labels") || [];
    const chosen = chosenOn(card);
    const inOrder = labels.filter((name) => chosen.includes(name));
    const same = (other) => Array.isArray(other) && other.length === inOrder.length && other.every((name) => inOrder.includes(name));
    if (card.review) answer(card.given && same(card.given.labels) ? "keep" : "label", inOrder);
    else if (hasSuggestion(card.suggestion) && same(card.suggestion.labels)) answer("accept");
    else answer("label", inOrder);
  }

  /** The kernel behind this card is gone: say so, and stop taking keys and clicks. */
  function die(reason) {
    if (disposed || view.dead) return;
    view.dead = true;
    view.insightsOpen = view.keymapOpen = false;
    console.warn("activelabel card: the kernel is gone;", reason && reason.message ? reason.message : reason);
    sendAnswers(true); // answers that never left are taken back: their records stay to be answered
    draw();
  }

  /**
   * The widget framework changed the model's link to the kernel. The model handed to the card
   * may not expose `comm_live` (the anywidget proxy does not) and the view may carry no mark:
   * then the event itself decides. Once a view is drawn, the framework only ever changes the
   * link to gone (it disconnects every model when the kernel restarts or dies).
   */
  function onCommChange() {
    if (commIsGone(model, el) !== false) die("the widget lost its link to the kernel");
  }

  function onCommClose() {
    die("the widget's link to the kernel closed");
  }

  /**
   * The pictures of the next records load and decode while this one is looked at; the last
   * answered keep theirs for an undo.
   */
  function prepareImages() {
    images.prepare([currentCard(), ...line.ahead().slice(0, imagesAhead(model.get("preload"))), ...line.answeredLast(IMAGES_BEHIND)]);
  }

  /**
   * Making a picture's URL costs a copy of its bytes (as base64 text, or a blob), so after a key
   * press this runs once the frame that shows the new record is out, not in the press itself;
   * presses faster than frames share one run. (The kernel's messages prepare at once: see
   * onKernelChange.)
   */
  let preparing = false;
  function prepareImagesAfterFrame() {
    if (preparing) return;
    preparing = true;
    const run = () => {
      preparing = false;
      if (!disposed) prepareImages();
    };
    // a task queued from an animation frame callback runs once that frame is painted
    if (typeof win.requestAnimationFrame === "function") win.requestAnimationFrame(() => win.setTimeout(run, 0));
    else win.setTimeout(run, 0);
  }

  function draw() {
    if (disposed) return;
    const card = currentCard();
    try {
      cardView.render({
        card,
        labels: model.get("labels"),
        keyMap: model.get("key_map"),
        labelColors: model.get("label_colors"),
        guidelines: model.get("guidelines"),
        progress: model.get("progress"),
        suggestion: card.suggestion || {},
        modelStatus: model.get("model_status"),
        votes: card.votes || [],
        strategy: model.get("strategy"),
        strategies: model.get("strategies"),
        strategyHelp: model.get("strategy_help"),
        storePath: model.get("store_path"),
        error: model.get("error"),
        notice: view.notice || line.refusal() || model.get("notice"),
        imageUrl: images.url(card.key, card.image ?? null),
        confidenceUrl: confidencePlot.update(model.get("confidence_png")),
        coverageUrl: coveragePlot.update(model.get("coverage_png")),
        insightsOpen: view.insightsOpen,
        plotTab: view.plotTab,
        keymapOpen: view.keymapOpen,
        expanded: !!card.key && view.expandedKey === card.key,
        fieldsOpen: !!card.key && view.fieldsKey === card.key,
        pending: line.pending(),
        recent: model.get("recent"),
        review: model.get("review"),
        reviewOrders: model.get("review_orders"),
        checks: model.get("checks"),
        mapSelection: model.get("map_selection"),
        mapChoice: view.mapChoice,
        dead: view.dead,
        unsaved: view.dead ? line.pending() : 0,
        multiLabel: !!model.get("multi_label"),
        chosen: model.get("multi_label") && isActive(card) ? chosenOn(card) : [],
      });
    } catch (error) {
      // Errors in change callbacks are swallowed by the widget framework: show them.
      console.error("activelabel card:", error);
      cardView.showFailure(error);
    }
  }

  /**
   * The kernel's state changed. One message from the kernel changes many traits at once and the
   * model says "change" once after them all: the page's line takes the new state (only when one
   * of its traits changed), then the card is drawn once, not once per trait.
   */
  let lineState = lineTraits();
  function onKernelChange() {
    if (disposed) return;
    const now = lineTraits();
    if (LINE_TRAITS.some((name) => !Object.is(now[name], lineState[name]))) {
      lineState = now;
      line.receive(now);
      sendAnswers(); // the answers sent before are settled: those pressed meanwhile leave now
      askForMissingContent();
      // records that just arrived may come on screen within a few presses: their pictures start
      // loading now, not a frame later (this is the kernel's message, not a key press)
      prepareImages();
    }
    draw();
  }

  /** The kernel named records of the line this page never got the content of: ask for all of it. */
  function askForMissingContent() {
    if (line.missing()) send("line");
  }

  /**
   * Start reviewing labeled records (likely errors first when there are any), or go back to labeling:
   * by what is on screen (the kernel's word on the review may lag behind the page by an answer).
   */
  function toggleReview() {
    if (currentCard().review) {
      send("review", { by: null });
      return;
    }
    const checks = model.get("checks") || {};
    send("review", { by: Number(checks.issues) > 0 ? "issues" : "time" });
  }

  function toggle(what) {
    if (what === "review") {
      toggleReview();
      return;
    }
    const wasOpen = view.insightsOpen;
    if (what === "insights") view.insightsOpen = !view.insightsOpen;
    else if (what === "keymap") view.keymapOpen = !view.keymapOpen;
    else if (what === "close") view.insightsOpen = view.keymapOpen = false;
    // the kernel draws the plots only while someone looks at them
    if (view.insightsOpen !== wasOpen && !view.dead) send("plots", { open: view.insightsOpen });
    draw();
  }

  const cardView = createCard(doc, {
    label: (label) => (model.get("multi_label") ? toggleLabel(label) : answer("label", label)),
    submit: () => submitChosen(),
    skip: () => answer("skip"),
    reject: () => answer("reject"),
    note: (key, text) => {
      if (key) send("note", { key, text });
    },
    undo: () => answer("undo"),
    retrain: () => send("retrain"),
    review: (by) => {
      send("review", { by: by || null });
      root.focus({ preventScroll: true });
    },
    revisit: (key) => {
      send("revisit", { key });
      root.focus({ preventScroll: true });
    },
    strategy: (name) => {
      send("strategy", { name });
      root.focus({ preventScroll: true });
    },
    toggleInsights: () => toggle("insights"),
    // the map's selection: choose a label, then confirm (the confirmation names the selection it saw)
    mapChoose: (label) => {
      const selection = model.get("map_selection") || {};
      view.mapChoice = label === null ? undefined : { label, selection: selection.id };
      draw();
    },
    mapConfirm: () => {
      const choice = view.mapChoice;
      view.mapChoice = undefined;
      if (choice) send("map_label", { label: choice.label, selection: choice.selection });
      draw();
    },
    mapClear: () => {
      view.mapChoice = undefined;
      send("map_clear");
      draw();
    },
    showPlot: (name) => {
      view.plotTab = name;
      draw();
    },
    toggleKeymap: () => toggle("keymap"),
    closeOverlays: () => toggle("close"),
    toggleExpanded: () => {
      const key = currentCard().key;
      view.expandedKey = view.expandedKey === key ? undefined : key;
      draw();
    },
    toggleFields: () => {
      const key = currentCard().key;
      view.fieldsKey = view.fieldsKey === key ? undefined : key;
      draw();
    },
  });
  const root = cardView.root;

  /**
   * Keys pressed while focus is inside the card. Listened for on the window in the capture
   * phase: Notebook 7 runs its shortcuts in the capture phase on the document and JupyterLab
   * in the bubble phase, so a listener on the card would come too late in Notebook 7 (z would
   * undo a cell action, r make the cell raw, x cut it). Keys the card takes stop here and
   * reach neither the notebook nor any other listener; the rest (Shift+Enter, keys with
   * ctrl / meta / alt, Tab, arrows) go on as if the card were not there. A dead card takes
   * no key at all: every key goes on to the notebook.
   */
  function onKeydown(event) {
    if (disposed || view.dead || !isInCard(event.target)) return;
    const card = currentCard();
    const command = commandForKey(event, {
      keyMap: model.get("key_map") || {},
      hasSuggestion: hasSuggestion(card.suggestion),
      review: !!card.review,
      active: isActive(card),
      overlayOpen: view.keymapOpen || view.insightsOpen,
      multiLabel: !!model.get("multi_label"),
    });
    if (command === null) return;
    event.stopPropagation();
    if (command.preventDefault) event.preventDefault();
    if (command.intent) {
      const { action, ...extra } = command.intent;
      if (["label", "accept", "skip", "undo", "keep", "reject"].includes(action)) answer(action, extra.label);
      else send(action, extra);
    } else if (command.ui === "toggle") {
      toggleLabel(command.label);
    } else if (command.ui === "submit") {
      submitChosen();
    } else if (command.ui) {
      toggle(command.ui);
    }
  }

  /**
   * The map beside the card draws on its own background: tell the kernel the theme's, so it matches.
   * The front end puts the view in the page after render, so this looks again until it can tell.
   */
  function reportBackground(tries = 20) {
    if (disposed) return;
    const background = root.isConnected ? opaqueHex(win.getComputedStyle(root).backgroundColor) : null;
    if (background) send("theme", { background });
    else if (tries > 0) win.setTimeout(() => reportBackground(tries - 1), 250);
  }

  function isInCard(target) {
    return !!target && typeof target.nodeType === "number" && root.contains(target);
  }

  function onClick(event) {
    // Keys go to the card once it is clicked anywhere; the select keeps its own focus.
    if (!isFormField(event.target)) root.focus({ preventScroll: true });
  }

  // a page being closed or left still sends the answers waiting for earlier ones to settle
  const onPageHide = () => sendAnswers(true);
  win.addEventListener("pagehide", onPageHide);
  win.addEventListener("keydown", onKeydown, true);
  root.addEventListener("click", onClick);
  model.on("change", onKernelChange);
  model.on("comm_live_update", onCommChange);
  model.on("comm:close", onCommClose);
  el.appendChild(root);
  line.receive(lineState);
  prepareImages();
  draw();
  askForMissingContent();
  reportBackground();
  if (commIsGone(model, el) === true) die("drawn for a model whose kernel is gone");

  return function cleanup() {
    sendAnswers(true); // answers waiting for earlier ones to settle still leave
    disposed = true;
    model.off("change", onKernelChange);
    model.off("comm_live_update", onCommChange);
    model.off("comm:close", onCommClose);
    cardView.dispose();
    win.removeEventListener("keydown", onKeydown, true);
    win.removeEventListener("pagehide", onPageHide);
    root.removeEventListener("click", onClick);
    images.release();
    confidencePlot.release();
    coveragePlot.release();
    root.remove();
  };
}

export default { render };
