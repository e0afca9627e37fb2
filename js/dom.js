// Build DOM nodes without ever parsing HTML: every string becomes a text node or
// an attribute value. Records are untrusted, so this is the only way the card
// makes nodes.

/**
 * Make an element.
 *
 * @param {Document} doc
 * @param {string} tag
 * @param {object} [props] `class`, `text` (textContent), any other attribute;
 *   `null`, `undefined` and `false` values are skipped, `true` sets an empty attribute.
 *   Inline event handler attributes (`on...`) are refused: use addEventListener.
 * @param {Array<Node|string|null|false>|Node|string} [children] strings become text nodes.
 * @returns {HTMLElement}
 */
export function h(doc, tag, props = {}, children = []) {
  const node = doc.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (/^on/i.test(name)) {
      throw new Error(`refusing inline event handler attribute "${name}": use addEventListener`);
    }
    if (name === "class") node.className = String(value);
    else if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? doc.createTextNode(child) : child);
  }
  return node;
}

/** Show or hide an element with the `hidden` attribute. */
export function show(node, visible) {
  node.hidden = !visible;
}
