// Bytes from the widget (a DataView in anywidget) -> URLs for <img> (data: for small pictures, blob: else).
// Image sources only ever come from URLs made here from the bytes themselves.

/**
 * View synced bytes as a Uint8Array, without copying.
 *
 * @param {DataView|ArrayBuffer|ArrayBufferView|null|undefined} value
 * @returns {Uint8Array|null} `null` when there are no bytes.
 */
export function toBytes(value) {
  if (value === null || value === undefined) return null;
  let bytes = null;
  if (ArrayBuffer.isView(value)) {
    bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  } else if (Object.prototype.toString.call(value) === "[object ArrayBuffer]") {
    bytes = new Uint8Array(value);
  }
  return bytes && bytes.byteLength > 0 ? bytes : null;
}

/** The kernel sends a record's image as PNG, or as JPEG for a colour photograph: read which from its first bytes. */
export function imageType(bytes, fallback = "image/png") {
  return bytes.byteLength >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff ? "image/jpeg" : fallback;
}

/**
 * Make an object URL for image bytes.
 *
 * @param {DataView|ArrayBuffer|ArrayBufferView|null|undefined} value
 * @param {string} [type] MIME type of the bytes when they are not JPEG (JPEG is recognised by its first bytes).
 * @returns {string|null} the URL (revoke it with URL.revokeObjectURL), or `null` when empty.
 */
export function bytesToObjectURL(value, type = "image/png") {
  const bytes = toBytes(value);
  if (bytes === null) return null;
  return URL.createObjectURL(new Blob([bytes], { type: imageType(bytes, type) }));
}

/**
 * A record's picture up to this size travels as a data: URL, which the browser reads as the <img>'s
 * source is set: the card's picture is complete the moment it is drawn. A blob: URL is fetched
 * through the browser's loader first, which takes tens of ms on a loaded machine, so a record
 * ranked into the line just before its press showed an empty box for a frame or two, and the
 * loads of photographs' blobs stretched the page's frames (benchmarks/README.md). 256 KB holds
 * the kernel's JPEG of a colour photograph at the card's scale (about 70-85 KB); larger pictures keep
 * blob: URLs: as text a data: URL takes a third more memory, and the page holds a few of them.
 */
export const INLINE_PICTURE_MOST = 256 * 1024;

/** Bytes as base64, in chunks (one call per byte would be slow, one for all can overflow the stack). */
function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * A URL for a record's picture: data: up to INLINE_PICTURE_MOST bytes, blob: above.
 *
 * @param {DataView|ArrayBuffer|ArrayBufferView|null|undefined} value
 * @param {string} [type] MIME type of the bytes when they are not JPEG.
 * @returns {string|null} the URL (let go of it with releaseURL), or `null` when empty.
 */
export function pictureURL(value, type = "image/png") {
  const bytes = toBytes(value);
  if (bytes === null) return null;
  if (bytes.byteLength > INLINE_PICTURE_MOST) return bytesToObjectURL(bytes, type);
  return `data:${imageType(bytes, type)};base64,${base64(bytes)}`;
}

/** Let go of a URL made by pictureURL (a data: URL holds nothing to let go of). */
export function releaseURL(url) {
  if (typeof url === "string" && url.startsWith("blob:")) URL.revokeObjectURL(url);
}

/** Whether two byte views hold the same bytes (a record's image arrives anew with each sync). */
export function sameBytes(a, b) {
  const x = toBytes(a);
  const y = toBytes(b);
  if (x === null || y === null) return x === y && a !== undefined && b !== undefined;
  if (x.byteLength !== y.byteLength) return false;
  for (let i = 0; i < x.byteLength; i += 1) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Hold at most one object URL for a synced bytes trait.
 *
 * `update(value)` returns the URL for `value`: the same URL while the value is the
 * same object, otherwise it revokes the old URL and makes a new one. `release()`
 * revokes whatever is held.
 *
 * @param {string} [type] MIME type of the bytes.
 */
export function createUrlSlot(type = "image/png") {
  let held = undefined;
  let url = null;
  function release() {
    if (url !== null) URL.revokeObjectURL(url);
    url = null;
    held = undefined;
  }
  function update(value) {
    if (value === held || sameBytes(value, held)) return url;
    release();
    held = value;
    url = bytesToObjectURL(value, type);
    return url;
  }
  return { update, release };
}

/**
 * URLs for the images of the page's line (see pictureURL), by record key: the record on screen and
 * the next few. The pictures of the records coming next are loaded and decoded ahead, in an image
 * off the page: the card's <img> for the same URL is then complete the moment it is drawn, as a
 * text card is, instead of showing an empty box for a frame or more while its picture loads.
 *
 * `prepare(records)` takes the records to hold ({key, image}, the one on screen first) and lets
 * go of the others; `url(key, image)` is the URL for one record (made on the spot for a record
 * not prepared, e.g. one an undo brought back); `release()` lets go of all.
 *
 * @param {function(): (HTMLImageElement|null)} [newImage] makes the off-page image (none: no decoding ahead).
 * @param {string} [type] MIME type of the bytes when they are not JPEG.
 */
export function createImageShelf(newImage = () => null, type = "image/png") {
  const held = new Map(); // key -> { value, url, warm }

  function entry(key, value) {
    if (typeof key !== "string" || key === "" || toBytes(value) === null) return null;
    const known = held.get(key);
    if (known && known.value === value) return known;
    // a record's image does not change within a session, but each sync may bring new bytes
    // objects: compare the bytes once, then hold the new object so the next look is by identity
    if (known && sameBytes(known.value, value)) {
      known.value = value;
      return known;
    }
    if (known) releaseURL(known.url);
    const made = { value, url: pictureURL(value, type), warm: null };
    held.set(key, made);
    return made;
  }

  function url(key, value) {
    const found = entry(key, value);
    return found ? found.url : null;
  }

  function prepare(records) {
    const keep = new Set();
    for (const record of records) {
      const found = record ? entry(record.key, record.image) : null;
      if (!found) continue;
      keep.add(record.key);
      if (found.warm === null) {
        const image = newImage();
        if (image) {
          image.src = found.url;
          // decoding is what delays the first frame of a large picture; a failure shows on the card's own <img>
          if (typeof image.decode === "function") image.decode().catch(() => {});
        }
        found.warm = image || false;
      }
    }
    for (const [key, found] of held) {
      if (!keep.has(key)) {
        releaseURL(found.url);
        held.delete(key);
      }
    }
  }

  function release() {
    for (const found of held.values()) releaseURL(found.url);
    held.clear();
  }

  return { url, prepare, release, size: () => held.size };
}
