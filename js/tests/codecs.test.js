// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bytesToObjectURL, createUrlSlot, toBytes } from "../codecs.js";

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
});
