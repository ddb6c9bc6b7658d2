import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode } from "@latchkey/core";
import { fileAppears, tempDir } from "@latchkey/test-utils";
import { describe, expect, it } from "vitest";
import { interactiveLogin, type LoginEvent } from "../src/index.js";
import { fakeServer } from "./fixtures.js";

const CHROMIUM = process.env.LATCHKEY_CHROMIUM ?? "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
// docs/development.md: without the background-networking flags Chromium floods the closed network.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--hide-scrollbars",
  "--window-size=900,560",
];

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The browser command: Debian's Chromium, headless, with a fresh profile; it screenshots the
 * page the redirect chain ends on and dumps its DOM. A tiny `sh` wrapper only redirects the
 * DOM to a file: the URL is its positional parameter "$1", never parsed by the shell.
 */
function chromiumCommand(name: string): {
  argv: string[];
  png: string;
  html: string;
  done: string;
} {
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = tempDir("latchkey-chromium-");
  const png = join(ARTIFACTS, `${name}.png`);
  const html = join(ARTIFACTS, `${name}.html`);
  const done = join(profile, "exit-status");
  for (const file of [png, html]) rmSync(file, { force: true });
  const words = [
    CHROMIUM,
    ...FLAGS,
    `--user-data-dir=${profile}`,
    `--screenshot=${png}`,
    "--dump-dom",
  ];
  const script = `${words.map(quote).join(" ")} "$1" >${quote(html)} 2>/dev/null; echo $? >${quote(`${done}.part`)}; mv ${quote(`${done}.part`)} ${quote(done)}`;
  return { argv: ["sh", "-c", script, "chromium-wrapper"], png, html, done };
}

describe.runIf(available || process.env.CI)("real Chromium as the browser", () => {
  it("S5 S7 S25 S26 S28: Debian's Chromium completes the login through the loopback server; the result page is captured", async () => {
    const { fake, client, server } = await fakeServer();
    const browser = chromiumCommand("chromium-success");
    const events: LoginEvent[] = [];
    const credentials = await interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      endpointName: new URL(fake.issuer).host,
      browser: { command: browser.argv },
      timeoutMs: 30_000,
      onEvent: (e) => events.push(e),
    });
    expect(credentials.accessToken).toBeTruthy();
    expect(events.find((e) => e.type === "callback-received")).toEqual({
      type: "callback-received",
      via: "loopback",
    });
    expect(fake.count("token")).toBe(1);
    await fileAppears(browser.done);
    expect(readFileSync(browser.done, "utf8").trim()).toBe("0");
    const dom = readFileSync(browser.html, "utf8");
    expect(dom).toContain(`Successfully logged into ${new URL(fake.issuer).host}`);
    expect(dom).toContain("<title>OAuth2 Authentication Success</title>");
    expect(dom).toContain('<html lang="en">');
    // The code left the address bar: the DOM is the clean /done page, with no code or state.
    expect(dom).not.toContain("code=");
    const png = readFileSync(browser.png);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.readUInt32BE(16)).toBe(900);
    expect(statSync(browser.png).size).toBeGreaterThan(5_000);
  }, 40_000);

  it("S27: an access-denied login shows the failure page in Chromium and fails with AUTHORIZATION_DENIED", async () => {
    const { fake, client, server } = await fakeServer();
    fake.setFault({ name: "authorize:access-denied", times: 1 });
    const browser = chromiumCommand("chromium-denied");
    const error = await interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      browser: { command: browser.argv },
      timeoutMs: 30_000,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.AUTHORIZATION_DENIED });
    expect(fake.count("token")).toBe(0);
    await fileAppears(browser.done);
    const dom = readFileSync(browser.html, "utf8");
    expect(dom).toContain("Login failed");
    expect(dom).toContain("access_denied");
    expect(statSync(browser.png).size).toBeGreaterThan(5_000);
  }, 40_000);
});

if (!available && !process.env.CI) {
  describe("real Chromium", () => {
    it.skip(`needs ${CHROMIUM} (apt-get install chromium); in CI this fails instead`, () =>
      undefined);
  });
}
