// The anywidget module: wire the model to the card. Reads synced traits, draws them,
// and sends intents that carry the current card's key and token (docs/protocol.md).

import { createCard, hasSuggestion, isActive } from "./card.js";
import { commandForKey, isFormField } from "./keys.js";
import { createUrlSlot } from "./codecs.js";

/** Synced traits the card draws. */
export const TRAITS = [
  "card", "image", "labels", "progress", "suggestion", "model_status", "votes",
  "strategy", "strategies", "store_path", "error", "notice", "confidence_png", "coverage_png",
];

function render({ model, el }) {
  const doc = el.ownerDocument || document;
  const view = { insightsOpen: false, keymapOpen: false, expandedToken: undefined };
  const image = createUrlSlot("image/png");
  const confidencePlot = createUrlSlot("image/png");
  const coveragePlot = createUrlSlot("image/png");
  let disposed = false;

  function currentCard() {
    const card = model.get("card");
    return card && typeof card === "object" ? card : {};
  }

  /** Send an intent for the card on screen now. */
  function send(action, extra = {}) {
    if (disposed) return;
    const card = currentCard();
    model.send({ action, key: card.key ?? null, token: card.token ?? null, ...extra });
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
        storePath: model.get("store_path"),
        error: model.get("error"),
        notice: model.get("notice"),
        imageUrl: image.update(model.get("image")),
        confidenceUrl: confidencePlot.update(model.get("confidence_png")),
        coverageUrl: coveragePlot.update(model.get("coverage_png")),
        insightsOpen: view.insightsOpen,
        keymapOpen: view.keymapOpen,
        expanded: card.token !== undefined && view.expandedToken === card.token,
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
    toggleKeymap: () => toggle("keymap"),
    closeOverlays: () => toggle("close"),
    toggleExpanded: () => {
      const token = currentCard().token;
      view.expandedToken = view.expandedToken === token ? undefined : token;
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
   * ctrl / meta / alt, Tab, arrows) go on as if the card were not there.
   */
  function onKeydown(event) {
    if (disposed || !isInCard(event.target)) return;
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
  el.appendChild(root);
  draw();

  return function cleanup() {
    disposed = true;
    for (const name of TRAITS) model.off(`change:${name}`, draw);
    win.removeEventListener("keydown", onKeydown, true);
    root.removeEventListener("click", onClick);
    image.release();
    confidencePlot.release();
    coveragePlot.release();
    root.remove();
  };
}

export default { render };
