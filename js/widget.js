// The anywidget module: wire the model to the card. Reads synced traits, draws them,
// and sends intents that carry the current card's key and token (docs/protocol.md).

import { createCard, hasSuggestion, isActive } from "./card.js";
import { commandForKey, isFormField } from "./keys.js";
import { createUrlSlot } from "./codecs.js";

/** Synced traits the card draws. */
export const TRAITS = [
  "card", "image", "labels", "progress", "suggestion", "model_status", "votes",
  "strategy", "strategies", "strategy_help", "store_path", "error", "notice", "confidence_png", "coverage_png",
];

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
  const view = { insightsOpen: false, plotTab: "confidence", keymapOpen: false, expandedToken: undefined, fieldsToken: undefined, dead: false };
  const image = createUrlSlot("image/png");
  const confidencePlot = createUrlSlot("image/png");
  const coveragePlot = createUrlSlot("image/png");
  let disposed = false;

  function currentCard() {
    const card = model.get("card");
    return card && typeof card === "object" ? card : {};
  }

  /** Send an intent for the card on screen now; a send that fails means the kernel is gone. */
  function send(action, extra = {}) {
    if (disposed || view.dead) return;
    const card = currentCard();
    try {
      model.send({ action, key: card.key ?? null, token: card.token ?? null, ...extra });
    } catch (error) {
      die(error);
    }
  }

  /** The kernel behind this card is gone: say so, and stop taking keys and clicks. */
  function die(reason) {
    if (disposed || view.dead) return;
    view.dead = true;
    view.insightsOpen = view.keymapOpen = false;
    console.warn("activelabel card: the kernel is gone;", reason && reason.message ? reason.message : reason);
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

  function draw() {
    if (disposed) return;
    const card = currentCard();
    try {
      cardView.render({
        card,
        labels: model.get("labels"),
        progress: model.get("progress"),
        suggestion: model.get("suggestion"),
        modelStatus: model.get("model_status"),
        votes: model.get("votes"),
        strategy: model.get("strategy"),
        strategies: model.get("strategies"),
        strategyHelp: model.get("strategy_help"),
        storePath: model.get("store_path"),
        error: model.get("error"),
        notice: model.get("notice"),
        imageUrl: image.update(model.get("image")),
        confidenceUrl: confidencePlot.update(model.get("confidence_png")),
        coverageUrl: coveragePlot.update(model.get("coverage_png")),
        insightsOpen: view.insightsOpen,
        plotTab: view.plotTab,
        keymapOpen: view.keymapOpen,
        expanded: card.token !== undefined && view.expandedToken === card.token,
        fieldsOpen: card.token !== undefined && view.fieldsToken === card.token,
        dead: view.dead,
      });
    } catch (error) {
      // Errors in change callbacks are swallowed by the widget framework: show them.
      console.error("activelabel card:", error);
      cardView.showFailure(error);
    }
  }

  function toggle(what) {
    if (what === "insights") view.insightsOpen = !view.insightsOpen;
    else if (what === "keymap") view.keymapOpen = !view.keymapOpen;
    else if (what === "close") view.insightsOpen = view.keymapOpen = false;
    draw();
  }

  const cardView = createCard(doc, {
    label: (label) => send("label", { label }),
    skip: () => send("skip"),
    undo: () => send("undo"),
    retrain: () => send("retrain"),
    strategy: (name) => {
      send("strategy", { name });
      root.focus({ preventScroll: true });
    },
    toggleInsights: () => toggle("insights"),
    showPlot: (name) => {
      view.plotTab = name;
      draw();
    },
    toggleKeymap: () => toggle("keymap"),
    closeOverlays: () => toggle("close"),
    toggleExpanded: () => {
      const token = currentCard().token;
      view.expandedToken = view.expandedToken === token ? undefined : token;
      draw();
    },
    toggleFields: () => {
      const token = currentCard().token;
      view.fieldsToken = view.fieldsToken === token ? undefined : token;
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
      labels: Array.isArray(model.get("labels")) ? model.get("labels") : [],
      hasSuggestion: hasSuggestion(model.get("suggestion")),
      active: isActive(card),
      overlayOpen: view.keymapOpen || view.insightsOpen,
    });
    if (command === null) return;
    event.stopPropagation();
    if (command.preventDefault) event.preventDefault();
    if (command.intent) {
      const { action, ...extra } = command.intent;
      send(action, extra);
    } else if (command.ui) {
      toggle(command.ui);
    }
  }

  function isInCard(target) {
    return !!target && typeof target.nodeType === "number" && root.contains(target);
  }

  function onClick(event) {
    // Keys go to the card once it is clicked anywhere; the select keeps its own focus.
    if (!isFormField(event.target)) root.focus({ preventScroll: true });
  }

  const win = doc.defaultView || window;
  win.addEventListener("keydown", onKeydown, true);
  root.addEventListener("click", onClick);
  for (const name of TRAITS) model.on(`change:${name}`, draw);
  model.on("comm_live_update", onCommChange);
  model.on("comm:close", onCommClose);
  el.appendChild(root);
  draw();
  if (commIsGone(model, el) === true) die("drawn for a model whose kernel is gone");

  return function cleanup() {
    disposed = true;
    for (const name of TRAITS) model.off(`change:${name}`, draw);
    model.off("comm_live_update", onCommChange);
    model.off("comm:close", onCommClose);
    cardView.dispose();
    win.removeEventListener("keydown", onKeydown, true);
    root.removeEventListener("click", onClick);
    image.release();
    confidencePlot.release();
    coveragePlot.release();
    root.remove();
  };
}

export default { render };
