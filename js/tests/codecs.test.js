// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { INLINE_PICTURE_MOST, bytesToObjectURL, createImageShelf, createUrlSlot, pictureURL, releaseURL, toBytes } from "../codecs.js";

/** The bytes a data: URL holds. */
function decoded(url) {
  return Uint8Array.from(atob(url.split(",")[1]), (c) => c.charCodeAt(0));
}

/** A picture of `size` bytes starting with `head` (its first bytes say PNG or JPEG). */
function picture(head, size = head.length) {
  const bytes = new Uint8Array(size);
  bytes.set(head);
  return new DataView(bytes.buffer);
}

let n = 0;
beforeEach(() => {
  n = 0;
  URL.createObjectURL = vi.fn(() => `blob:test/${++n}`);
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => {
  delete URL.createObjectURL;
  delete URL.revokeObjectURL;
});

describe("codecs", () => {
  it("reads exactly the bytes a DataView covers", () => {
    const buffer = new Uint8Array([1, 2, 3, 4, 5]).buffer;
    expect(Array.from(toBytes(new DataView(buffer, 1, 3)))).toEqual([2, 3, 4]);
    expect(Array.from(toBytes(buffer))).toEqual([1, 2, 3, 4, 5]);
  });

  it("treats missing or empty bytes as no image", () => {
    expect(toBytes(null)).toBeNull();
    expect(toBytes(new DataView(new ArrayBuffer(0)))).toBeNull();
    expect(bytesToObjectURL(new DataView(new ArrayBuffer(0)))).toBeNull();
    expect(URL.createObjectURL).not.toHaveBeenCalled();
  });

  it("makes a PNG blob URL from bytes", () => {
    const url = bytesToObjectURL(new DataView(new Uint8Array([137, 80, 78, 71]).buffer));
    expect(url).toBe("blob:test/1");
    expect(URL.createObjectURL.mock.calls[0][0].type).toBe("image/png");
  });

  it("makes a JPEG blob URL from the bytes of a photograph, which the kernel sends as JPEG", () => {
    bytesToObjectURL(new DataView(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]).buffer));
    expect(URL.createObjectURL.mock.calls[0][0].type).toBe("image/jpeg");
  });

  it("keeps one URL per value and revokes it when the value changes or is released", () => {
    const slot = createUrlSlot();
    const first = new DataView(new Uint8Array([1]).buffer);
    expect(slot.update(first)).toBe("blob:test/1");
    expect(slot.update(first)).toBe("blob:test/1");
    expect(slot.update(new DataView(new Uint8Array([2]).buffer))).toBe("blob:test/2");
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:test/1");
    expect(slot.update(new DataView(new ArrayBuffer(0)))).toBeNull();
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:test/2");
    slot.update(first);
    slot.release();
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:test/3");
  });

  it("holds one URL per record of the line, decodes the pictures ahead, and lets go of the records that left", () => {
    const made = [];
    const shelf = createImageShelf(() => {
      const image = { src: "", decode: vi.fn(() => Promise.resolve()) };
      made.push(image);
      return image;
    });
    const bytes = (n) => picture([0x89, 0x50, n], INLINE_PICTURE_MOST + 1); // blob: URLs, to be let go of
    const a = { key: "i:1", image: bytes(1) };
    const b = { key: "i:2", image: bytes(2) };
    const text = { key: "i:3", image: null };
    shelf.prepare([a, b, text]);
    expect(shelf.size()).toBe(2); // a record without a picture holds nothing
    expect(made.map((image) => image.src)).toEqual(["blob:test/1", "blob:test/2"]);
    expect(made.every((image) => image.decode.mock.calls.length === 1)).toBe(true);
    // the same record again, even as new bytes objects from a later sync: the same URL, not decoded again
    expect(shelf.url("i:2", bytes(2))).toBe("blob:test/2");
    shelf.prepare([{ key: "i:2", image: bytes(2) }]);
    expect(made).toHaveLength(2);
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:test/1");
    expect(URL.revokeObjectURL).not.toHaveBeenCalledWith("blob:test/2");
    // a record not prepared (an undo brought it back) gets its URL on the spot
    expect(shelf.url("i:1", bytes(1))).toBe("blob:test/3");
    expect(shelf.url("", bytes(1))).toBeNull();
    expect(shelf.url("i:4", null)).toBeNull();
    shelf.release();
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:test/2");
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:test/3");
    expect(shelf.size()).toBe(0);
  });

  it("makes a data: URL of a small picture, with its type, and a blob: URL above INLINE_PICTURE_MOST bytes", () => {
    const small = picture([0xff, 0xd8, 0xff, 0xe0, 0, 255, 128]);
    const url = pictureURL(small);
    expect(url.startsWith("data:image/jpeg;base64,")).toBe(true);
    expect(decoded(url)).toEqual(new Uint8Array(small.buffer));
    // every byte value, across the encoder's chunks of 0x8000, from a view into a larger buffer
    let inline = null;
    for (const size of [0x7fff, 0x8000, 0x8001, INLINE_PICTURE_MOST]) {
      const buffer = new Uint8Array(size + 5).map((_, i) => (i * 131) & 255).buffer;
      const view = new DataView(buffer, 3, size);
      inline = pictureURL(view);
      expect(inline.startsWith("data:")).toBe(true);
      expect(decoded(inline)).toEqual(new Uint8Array(buffer, 3, size));
    }
    expect(URL.createObjectURL).not.toHaveBeenCalled();
    const large = pictureURL(picture([0x89, 0x50, 0x4e, 0x47], INLINE_PICTURE_MOST + 1));
    expect(large).toBe("blob:test/1");
    expect(pictureURL(null)).toBeNull();
    releaseURL(inline);
    expect(URL.revokeObjectURL).not.toHaveBeenCalled();
    releaseURL(large);
    expect(URL.revokeObjectURL).toHaveBeenCalledWith("blob:test/1");
  });

  it("names PNG or JPEG in a data: URL, whatever the bytes hold (markup is never read as an SVG)", () => {
    const markup = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>');
    const url = pictureURL(new DataView(markup.buffer));
    expect(url.startsWith("data:image/png;base64,")).toBe(true);
  });

  it("holds a small picture of the line as a data: URL and decodes it ahead like any other", () => {
    const decode = vi.fn(() => Promise.resolve());
    const shelf = createImageShelf(() => ({ src: "", decode }));
    const record = { key: "i:1", image: picture([0x89, 0x50, 1]) };
    shelf.prepare([record]);
    expect(shelf.url("i:1", record.image)).toBe(pictureURL(record.image));
    expect(decode).toHaveBeenCalledTimes(1);
    shelf.prepare([]);
    shelf.release();
    expect(URL.revokeObjectURL).not.toHaveBeenCalled();
  });

  it("still gives URLs where no off-page image can be made", () => {
    const shelf = createImageShelf();
    shelf.prepare([{ key: "i:1", image: picture([1], INLINE_PICTURE_MOST + 1) }]);
    expect(shelf.url("i:1", picture([1], INLINE_PICTURE_MOST + 1))).toBe("blob:test/1");
  });
});
