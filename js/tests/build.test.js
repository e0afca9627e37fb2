// The module bundles into one self-contained ES module (no imports left, nothing fetched
// at run time) whose default export has render, and the stylesheet bundles too.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const jsDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = mkdtempSync(join(tmpdir(), "card-bundle-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("bundle", () => {
  it("is one ES module with a default export that renders", async () => {
    const result = await build({
      entryPoints: [join(jsDir, "widget.js")], bundle: true, format: "esm", write: false, logLevel: "silent",
    });
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/^\s*import\s/m);
    expect(code).not.toMatch(/https?:\/\//);
    const file = join(outDir, "widget.js");
    writeFileSync(file, code);
    const module = await import(pathToFileURL(file).href);
    expect(typeof module.default.render).toBe("function");
  });

  it("bundles the stylesheet", async () => {
    const result = await build({ entryPoints: [join(jsDir, "widget.css")], bundle: true, write: false, logLevel: "silent" });
    expect(result.outputFiles[0].text).toContain(".al-card");
  });
});
