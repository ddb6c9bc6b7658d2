// The public surface of @latchkey/cli, read from its build (scripts/api-surface.mjs): the program
// is the CLI; the package entry only lets a program run it and map errors to exit codes.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { publicApi } from "../../../scripts/api-surface.mjs";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("public API", () => {
  it("each entry of the build exports exactly the intended names", async () => {
    expect(await publicApi(packageDir)).toEqual({
      ".": {
        runtime: ["ExitCode", "exitCodeFor", "runCli"],
        types: ["CliEnvironment"],
      },
    });
  });
});
