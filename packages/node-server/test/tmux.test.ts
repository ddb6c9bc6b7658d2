import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTmux } from "@latchkey/test-utils";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { addressTheBrowserEndsOn, fakeServer } from "./fixtures.js";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
// Inside the package, so that `@latchkey/core` resolves from its node_modules.
const BUILD = fileURLToPath(new URL("../test-artifacts/tmux-paste/", import.meta.url));
const tmuxAvailable = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The sources as plain ESM (type-stripping only), so that a real `node` can run them in a pane. */
function transpileSources(): void {
  rmSync(BUILD, { recursive: true, force: true });
  mkdirSync(BUILD, { recursive: true });
  for (const file of readdirSync(SRC).filter((f) => f.endsWith(".ts"))) {
    const { outputText } = ts.transpileModule(readFileSync(join(SRC, file), "utf8"), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    });
    writeFileSync(join(BUILD, file.replace(/\.ts$/, ".js")), outputText);
  }
  writeFileSync(join(BUILD, "package.json"), '{"type":"module"}\n');
  // A minimal command-line front end, printing the events the way the CLI does.
  writeFileSync(
    join(BUILD, "paste-login.js"),
    `import { resolveServer } from "@latchkey/core";
import { interactiveLogin } from "./index.js";
const client = { issuer: process.argv[2], clientId: "latchkey", scopes: ["openid"] };
const server = await resolveServer(client);
try {
  const credentials = await interactiveLogin({
    client, server, mode: "paste", timeoutMs: 30000,
    onEvent(e) {
      if (e.type === "authorization-url") process.stderr.write("Open this URL in a browser:\\n" + e.url + "\\n");
      if (e.type === "paste-prompt") process.stderr.write("Paste the address your browser ended on (" + e.attempt + "/" + e.maxAttempts + "): ");
      if (e.type === "paste-rejected") process.stderr.write("REFUSED: " + e.reason + "\\n");
      if (e.type === "callback-received") process.stderr.write("received via " + e.via + "\\n");
    },
  });
  process.stderr.write("LOGGED IN (" + credentials.tokenType + ", " + credentials.accessToken.length + " chars)\\n");
} catch (error) {
  process.stderr.write("FAILED " + error.code + ": " + error.message + "\\n");
  process.exitCode = 3;
}
`,
  );
}

describe.runIf(tmuxAvailable || process.env.CI)("paste mode in a real terminal (tmux)", () => {
  it("S15 S16: a wrong paste typed into the terminal is refused, then the right address completes the login", async () => {
    const { fake } = await fakeServer();
    transpileSources();
    const pane = await startTmux(
      `${process.execPath} paste-login.js ${fake.issuer}; echo EXIT=$?; sleep 60`,
      { cwd: BUILD, width: 400, height: 50 },
    );

    const shown = await pane.waitFor(/\(1\/3\): $/m);
    const url = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(shown)?.[1];
    expect(url).toBeDefined();
    const redirectUri = new URL(url as string).searchParams.get("redirect_uri") as string;
    // The user's browser is elsewhere: it ends on the loopback address, which fails to load there.
    const landed = await addressTheBrowserEndsOn(url as string, redirectUri);

    const stray = new URL(landed);
    stray.searchParams.set("state", "not-this-login");
    await pane.type(stray.href);
    await pane.waitFor(/REFUSED: The callback's state does not match this login\.\n.*\(2\/3\): $/m);
    expect(fake.count("token")).toBe(0);

    await pane.type(landed);
    const final = await pane.waitFor(/EXIT=\d+/);
    writeFileSync(join(BUILD, "..", "tmux-paste-pane.txt"), final);
    expect(final).toContain("received via paste");
    expect(final).toMatch(/LOGGED IN \(bearer, \d+ chars\)/i);
    expect(final).toContain("EXIT=0");
    expect(fake.count("token")).toBe(1);
  }, 30_000);
});
