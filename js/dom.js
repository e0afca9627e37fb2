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

/**
 * Show or hide an element with the `hidden` attribute, only when that changes (setting it again
 * to the same value still makes the browser recompute the element's style).
 */
export function show(node, visible) {
  if (node.hidden === visible) node.hidden = !visible;
}

/**
 * Set an attribute only when it changes (`null` removes it): a write of the same value still
 * counts as a change to the browser, which then recomputes the element's style.
 */
export function setAttr(node, name, value) {
  if (value === null || value === undefined) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== String(value)) {
    node.setAttribute(name, String(value));
  }
}

/** Set one inline style property only when it changes. */
export function setStyle(node, property, value) {
  if (node.style[property] !== value) node.style[property] = value;
}

/** Set the text of an element only when it changes. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * Put `node` in `parent` (before `before`, or last) or take it out, keeping what is there.
 * For the optional parts of an element that is updated in place.
 */
export function place(parent, node, present, before = null) {
  if (present && node.parentNode !== parent) parent.insertBefore(node, before && before.parentNode === parent ? before : null);
  else if (!present && node.parentNode === parent) node.remove();
}
