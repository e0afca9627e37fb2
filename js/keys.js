// The key map: which key does what. Pure: an event and a little context in, a
// command out. The card decides nothing about what comes next.

/** Rows of the key map: [keys, what they do, optional text between the keys (default " or ")]. */
export const KEY_MAP = [
  [["1–9", "0"], "label the record with that label", ", "],
  [["Enter"], "accept the suggestion"],
  [["s"], "skip: put the record at the back of the line"],
  [["z", "Backspace"], "undo the last label or skip"],
  [["r"], "retrain the model now"],
  [["i"], "show or hide insights"],
  [["?"], "show or hide this key map"],
  [["Esc"], "close the key map and insights"],
];

/** Number of labels that have a number key: 1 to 9, then 0 for the tenth. */
export const KEYED_LABELS = 10;

/** The number key of the label at `index` (0-based): "1".."9", "0" for the tenth, else null. */
export function keyForLabel(index) {
  if (!Number.isInteger(index) || index < 0 || index >= KEYED_LABELS) return null;
  return String((index + 1) % 10);
}

/** The label index (0-based) a number key stands for, or -1 for any other key. */
export function labelIndexForKey(key) {
  if (typeof key !== "string" || key.length !== 1 || key < "0" || key > "9") return -1;
  return key === "0" ? 9 : Number(key) - 1;
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
 * @param {string[]} context.labels label names in key order.
 * @param {boolean} context.hasSuggestion whether there is a suggestion to accept.
 * @param {boolean} context.active whether a record is on the card (not done / empty).
 * @param {boolean} context.overlayOpen whether the key map or insights is open.
 * @returns {null|{intent?: object, ui?: string, preventDefault: boolean}}
 *   `null`: not the card's key, let it through (keys with ctrl / meta / alt, Shift+Enter,
 *   Tab, arrows outside the select...). Otherwise stop it from reaching the notebook;
 *   `intent` is `{action, label?}` to send, `ui` is `"insights"`, `"keymap"` or `"close"`,
 *   and neither means the key belongs to the card but does nothing right now.
 */
export function commandForKey(event, { labels = [], hasSuggestion = false, active = false, overlayOpen = false } = {}) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  const { key, target } = event;
  // The select and text fields keep their keys; the notebook must not see them either.
  if (isFormField(target)) return { preventDefault: false };
  // Enter and Space on a focused button press that button.
  if (isButton(target) && (key === "Enter" || key === " ")) return { preventDefault: false };

  const index = labelIndexForKey(key);
  if (index >= 0) {
    const label = labels[index];
    if (active && label !== undefined) return { intent: { action: "label", label }, preventDefault: true };
    return { preventDefault: true };
  }
  switch (key) {
    case "Enter":
      if (event.shiftKey) return null; // Shift+Enter runs the cell
      return active && hasSuggestion ? { intent: { action: "accept" }, preventDefault: true } : { preventDefault: true };
    case "s":
    case "S":
      return active ? { intent: { action: "skip" }, preventDefault: true } : { preventDefault: true };
    case "z":
    case "Z":
    case "Backspace":
      return { intent: { action: "undo" }, preventDefault: true };
    case "r":
    case "R":
      return { intent: { action: "retrain" }, preventDefault: true };
    case "i":
    case "I":
      return { ui: "insights", preventDefault: true };
    case "?":
      return { ui: "keymap", preventDefault: true };
    case "Escape":
      return overlayOpen ? { ui: "close", preventDefault: true } : null;
    default:
      // Any other printable key is kept from the notebook's command mode, where single
      // letters act on cells (a, b, x, d d...) while the card has focus. Space still scrolls.
      if (key.length === 1 && key !== " ") return { preventDefault: false };
      return null;
  }
}
