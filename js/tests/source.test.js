// The card's own source never parses HTML or sets inline handlers: records are untrusted.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const jsDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = readdirSync(jsDir).filter((f) => f.endsWith(".js"));

describe("card source", () => {
  it.each(sources)("%s never parses HTML", (file) => {
    const code = readFileSync(join(jsDir, file), "utf8");
    for (const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "createContextualFragment", "DOMParser"]) {
      expect(code).not.toContain(sink);
    }
    expect(code).not.toMatch(/setAttribute\(\s*["']on/i);
  });
});
