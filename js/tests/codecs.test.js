// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bytesToObjectURL, createImageShelf, createUrlSlot, toBytes } from "../codecs.js";

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
    const bytes = (n) => new DataView(new Uint8Array([0x89, 0x50, n]).buffer);
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

  it("still gives URLs where no off-page image can be made", () => {
    const shelf = createImageShelf();
    shelf.prepare([{ key: "i:1", image: new DataView(new Uint8Array([1]).buffer) }]);
    expect(shelf.url("i:1", new DataView(new Uint8Array([1]).buffer))).toBe("blob:test/1");
  });
});
