// The key map: which key does what. Pure: an event and a little context in, a
// command out. The card decides nothing about what comes next.
//
// COMMANDS is the one table of the card's command keys, and the kernel's `key_map`
// (label -> key) the one table of its label keys. commandForKey, the key map shown on
// the card and the label buttons are all read from these two, so a key cannot work
// without being listed, nor be listed without working.

/**
 * The card's commands, in the order the key map lists them.
 *
 * Each entry:
 * - `keys`: the `KeyboardEvent.key` values that trigger it. Letters match either case.
 * - `shown`: how the keys are written in the key map (default: `keys`);
 *   `between`: the text between them (default " or ").
 * - `does`: what the command does, as the key map says it.
 * - `intent`: the intent to send, `{action}`.
 *   `ui`: or instead a change to the view: "insights", "keymap", "close" or "review".
 * - `inReview`: the intent instead while the record on the card is shown in review.
 * - `needsRecord`, `needsSuggestion`: the key belongs to the card but does nothing
 *   unless a record is on the card / there is a suggestion to accept (in review, a label to keep).
 * - `needsOverlay`: the key is the card's only while the key map or insights is open;
 *   otherwise it goes on to the notebook.
 * - `shiftPasses`: with Shift held the key goes on to the notebook (Shift+Enter runs the cell).
 * - `multi`: what the key does instead on a multi-label card (`does`, `ui`), where label keys
 *   toggle labels on the record (`ui: "toggle"`) and Enter saves the chosen set (`ui: "submit"`,
 *   with or without a suggestion): the page keeps the chosen set and sends it as one answer.
 */
export const COMMANDS = deepFreeze([
  {
    keys: ["Enter"], does: "accept the suggestion (in review: keep the label)", intent: { action: "accept" },
    inReview: { action: "keep" }, needsRecord: true, needsSuggestion: true, shiftPasses: true,
    multi: { does: "save the chosen labels (the suggested ones start chosen; none chosen saves \"no label\")", ui: "submit" },
  },
  { keys: ["s"], does: "skip: put the record at the back of the line (in review: move on)", intent: { action: "skip" }, needsRecord: true },
  { keys: ["Delete"], shown: ["Del"], does: "reject: the record is unusable (out of training and the line)", intent: { action: "reject" }, needsRecord: true },
  { keys: ["z", "Backspace"], does: "undo the last label or skip", intent: { action: "undo" } },
  { keys: ["v"], does: "review labeled records, or go back to labeling", ui: "review" },
  { keys: ["r"], does: "retrain the model now", intent: { action: "retrain" } },
  { keys: ["i"], does: "show or hide insights", ui: "insights" },
  { keys: ["?"], does: "show or hide this key map", ui: "keymap" },
  { keys: ["Escape"], shown: ["Esc"], does: "close the key map and insights", ui: "close", needsOverlay: true },
]);

function deepFreeze(value) {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** A key as the table writes it: single letters in lower case, every other key as is. */
function keyName(key) {
  return typeof key === "string" && key.length === 1 ? key.toLowerCase() : key;
}

/** The table entry a key triggers, or undefined. */
export function commandEntryForKey(key) {
  const name = keyName(key);
  return COMMANDS.find((command) => command.keys.some((k) => keyName(k) === name));
}

/**
 * The rows of the key map, one per command: `keys` (the key names that trigger it),
 * `shown` (how they are written), `between` (the text between them) and `does`.
 */
export function keymapRows(multiLabel = false) {
  return COMMANDS.map((command) => ({
    keys: command.keys,
    shown: command.shown || command.keys,
    between: command.between ?? " or ",
    does: multiLabel && command.multi ? command.multi.does : command.does,
  }));
}

/** The key of `label` in the kernel's key map (label -> key), or null when it has none (click its button). */
export function keyOf(keyMap, label) {
  const key = keyMap && typeof keyMap === "object" ? keyMap[label] : null;
  return typeof key === "string" && key.length === 1 ? key : null;
}

/** The label a key stands for in the key map (letters in either case), or null. */
export function labelForKey(keyMap, key) {
  if (!keyMap || typeof keyMap !== "object" || typeof key !== "string" || key.length !== 1) return null;
  const name = keyName(key);
  const found = Object.entries(keyMap).find(([, k]) => typeof k === "string" && keyName(k) === name);
  return found ? found[0] : null;
}

/** True for elements that own their keys (the strategy select, any text field). */
export function isFormField(target) {
  if (!target || typeof target.tagName !== "string") return false;
  const tag = target.tagName.toUpperCase();
  return tag === "SELECT" || tag === "INPUT" || tag === "TEXTAREA" || target.isContentEditable === true;
}

function isButton(target) {
  return !!target && typeof target.tagName === "string" && target.tagName.toUpperCase() === "BUTTON";
}

/**
 * Turn a keydown into a command for the card.
 *
 * @param {KeyboardEvent} event
 * @param {object} context
 * @param {object} context.keyMap the kernel's key map: label name -> its key (or null).
 * @param {boolean} context.hasSuggestion whether there is a suggestion to accept.
 * @param {boolean} context.review whether the record on the card is shown in review (it has a label).
 * @param {boolean} context.active whether a record is on the card (not done / empty).
 * @param {boolean} context.overlayOpen whether the key map or insights is open.
 * @param {boolean} context.multiLabel whether a record carries a set of labels: label keys toggle
 *   (`{ui: "toggle", label}`) and Enter saves the set (`{ui: "submit"}`).
 * @returns {null|{intent?: object, ui?: string, preventDefault: boolean}}
 *   `null`: not the card's key, let it through (keys with ctrl / meta / alt, Shift+Enter,
 *   Tab, arrows outside the select...). Otherwise stop it from reaching the notebook;
 *   `intent` is `{action, label?}` to send, `ui` is `"insights"`, `"keymap"`, `"close"`, `"review"`,
 *   or on a multi-label card `"toggle"` (with `label`) or `"submit"`,
 *   and neither means the key belongs to the card but does nothing right now.
 */
export function commandForKey(event, { keyMap = {}, hasSuggestion = false, active = false, overlayOpen = false, review = false, multiLabel = false } = {}) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const { key, target } = event;
  // The select and text fields keep their keys; the notebook must not see them either.
  if (isFormField(target)) return { preventDefault: false };
  // Enter and Space on a focused button press that button.
  if (isButton(target) && (key === "Enter" || key === " ")) return { preventDefault: false };

  const label = labelForKey(keyMap, key);
  if (label !== null) {
    if (!active) return { preventDefault: true };
    return multiLabel ? { ui: "toggle", label, preventDefault: true } : { intent: { action: "label", label }, preventDefault: true };
  }
  const command = commandEntryForKey(key);
  if (!command) {
    // Any other printable key is kept from the notebook's command mode, where single
    // letters act on cells (a, b, x, d d...) while the card has focus. Space still scrolls.
    if (typeof key === "string" && key.length === 1 && key !== " ") return { preventDefault: false };
    return null;
  }
  if (command.shiftPasses && event.shiftKey) return null;
  if (command.needsOverlay && !overlayOpen) return null;
  const idle = { preventDefault: true };
  if (command.needsRecord && !active) return idle;
  if (multiLabel && command.multi) return { ui: command.multi.ui, preventDefault: true };
  if (command.needsSuggestion && !hasSuggestion && !(review && command.inReview)) return idle;
  if (command.ui) return { ui: command.ui, preventDefault: true };
  return { intent: { ...(review && command.inReview ? command.inReview : command.intent) }, preventDefault: true };
}
