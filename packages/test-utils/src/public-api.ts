import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type EntryNames, publicApi } from "../../../scripts/api-surface.mjs";

/**
 * The test that a package's build exports exactly `expected` (runtime and type-only names of
 * each entry of its package.json "exports", read by scripts/api-surface.mjs): an internal
 * exported by mistake fails it, and adding a public name means adding it to `expected`.
 *
 * @param packageUrl - The package's directory, e.g. `new URL("..", import.meta.url)`.
 */
export function testPublicApi(packageUrl: URL, expected: Record<string, EntryNames>): void {
  describe("public API", () => {
    it("each entry of the build exports exactly the intended names", async () => {
      expect(await publicApi(fileURLToPath(packageUrl))).toEqual(expected);
    });
  });
}
