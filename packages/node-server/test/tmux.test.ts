import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { tempDir } from "@latchkey/test-utils";
import ts from "typescript";
import { describe, expect, it, onTestFinished } from "vitest";
import { addressTheBrowserEndsOn, fakeServer } from "./fixtures.js";

const run = promisify(execFile);
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

/** Resolves on the next write to `file` (the pane's output, piped there by `tmux pipe-pane`). */
function nextWrite(file: string): { written: Promise<void>; stop: () => void } {
  let stop = (): void => undefined;
  const written = new Promise<void>((resolve) => {
    const watcher = watch(file, () => {
      watcher.close();
      resolve();
    });
    stop = () => watcher.close();
  });
  return { written, stop };
}

/**
 * The pane's text once it matches `pattern`: looked at again each time the program writes to
 * the pane, never on a timer (the test's timeout is the hang guard).
 */
async function waitForPane(
  tmux: (...args: string[]) => Promise<string>,
  output: string,
  pattern: RegExp,
): Promise<string> {
  for (;;) {
    const next = nextWrite(output); // before looking, so that no write goes unnoticed
    const pane = await tmux("capture-pane", "-p", "-J", "-t", "login");
    if (pattern.test(pane)) {
      next.stop();
      return pane;
    }
    await next.written;
  }
}

describe.runIf(tmuxAvailable || process.env.CI)("paste mode in a real terminal (tmux)", () => {
  it("S15 S16: a wrong paste typed into the terminal is refused, then the right address completes the login", async () => {
    const { fake } = await fakeServer();
    transpileSources();
    const socket = `latchkey-test-${process.pid}`;
    const tmux = async (...args: string[]): Promise<string> =>
      (await run("tmux", ["-L", socket, ...args])).stdout;
    await tmux(
      "new-session",
      "-d",
      "-s",
      "login",
      "-x",
      "400",
      "-y",
      "50",
      "-c",
      BUILD,
      `${process.execPath} paste-login.js ${fake.issuer}; echo EXIT=$?; sleep 60`,
    );
    onTestFinished(async () => {
      await tmux("kill-server").catch(() => undefined);
    });
    // Every write to the pane lands in this file too; what was written before is in the pane.
    const output = join(tempDir("latchkey-tmux-"), "pane-output");
    writeFileSync(output, "");
    await tmux("pipe-pane", "-t", "login", `cat >> '${output}'`);

    const shown = await waitForPane(tmux, output, /\(1\/3\): $/m);
    const url = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(shown)?.[1];
    expect(url).toBeDefined();
    const redirectUri = new URL(url as string).searchParams.get("redirect_uri") as string;
    // The user's browser is elsewhere: it ends on the loopback address, which fails to load there.
    const landed = await addressTheBrowserEndsOn(url as string, redirectUri);

    const stray = new URL(landed);
    stray.searchParams.set("state", "not-this-login");
    await tmux("send-keys", "-t", "login", "-l", stray.href);
    await tmux("send-keys", "-t", "login", "Enter");
    await waitForPane(
      tmux,
      output,
      /REFUSED: The callback's state does not match this login\.\n.*\(2\/3\): $/m,
    );
    expect(fake.count("token")).toBe(0);

    await tmux("send-keys", "-t", "login", "-l", landed);
    await tmux("send-keys", "-t", "login", "Enter");
    const final = await waitForPane(tmux, output, /EXIT=\d+/);
    writeFileSync(join(BUILD, "..", "tmux-paste-pane.txt"), final);
    expect(final).toContain("received via paste");
    expect(final).toMatch(/LOGGED IN \(bearer, \d+ chars\)/i);
    expect(final).toContain("EXIT=0");
    expect(fake.count("token")).toBe(1);
  }, 30_000);
});
