// The interactive login page and the device verification page in a real browser: Debian's
// Chromium driven by Playwright (no browser download), against the fake server over loopback.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningFakeAuthorizationServer, startFakeAuthorizationServer } from "../src/index.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available && process.env.CI)
  throw new Error(`${CHROMIUM} is missing: CI installs the Debian package chromium`);

let browser: Browser;
let idp: RunningFakeAuthorizationServer;
let app: Server;
let appUrl: string;
const received: URL[] = [];

beforeAll(async () => {
  if (!available) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  idp = await startFakeAuthorizationServer({
    interactive: true,
    users: { bob: { claims: { name: "Bob" } } },
  });
  // The app's loopback redirect URI: records what the browser brings back.
  app = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/callback") received.push(url);
    res.writeHead(200, { "content-type": "text/html" }).end("<h1>back in the app</h1>");
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/callback`;
});

afterAll(async () => {
  await browser?.close();
  await idp?.close();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
});

function authorizeUrl(): { url: string; verifier: string; state: string } {
  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const url = new URL(idp.endpoints.authorization);
  url.search = new URLSearchParams({
    client_id: "latchkey",
    response_type: "code",
    redirect_uri: appUrl,
    scope: "openid",
    state,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }).toString();
  return { url: url.href, verifier, state };
}

describe.skipIf(!available)("in real Chromium", () => {
  it("S2: the interactive login page signs a user in and the code is redeemed with its verifier", async () => {
    const page = await browser.newPage();
    const { url, verifier, state } = authorizeUrl();
    await page.goto(url);
    await expect.poll(() => page.locator('input[name="login"]').count()).toBe(1);
    await page.fill('input[name="login"]', "bob");
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[value="approve"]')]);
    const back = received.at(-1) as URL;
    expect(back.searchParams.get("state")).toBe(state);
    expect(back.searchParams.get("iss")).toBe(idp.issuer);
    const token = await fetch(idp.endpoints.token, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: back.searchParams.get("code") as string,
        redirect_uri: appUrl,
        client_id: "latchkey",
        code_verifier: verifier,
      }),
    });
    expect(token.status).toBe(200);
    const body = (await token.json()) as { id_token: string };
    const claims = JSON.parse(
      Buffer.from(body.id_token.split(".")[1] as string, "base64url").toString(),
    ) as { sub: string };
    expect(claims.sub).toBe("bob");
    await page.close();
  });

  it("the deny button brings the user back with error=access_denied", async () => {
    const page = await browser.newPage();
    const { url, state } = authorizeUrl();
    await page.goto(url);
    await Promise.all([page.waitForURL(/\/callback\?/), page.click('button[value="deny"]')]);
    const back = received.at(-1) as URL;
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe(state);
    await page.close();
  });

  it("the device verification page approves a device code typed by the user", async () => {
    const start = await fetch(idp.endpoints.deviceAuthorization, {
      method: "POST",
      body: new URLSearchParams({ client_id: "latchkey" }),
    });
    const device = (await start.json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
    };
    const page = await browser.newPage();
    await page.goto(device.verification_uri);
    await page.fill('input[name="user_code"]', device.user_code);
    await page.click('button[value="approve"]');
    await expect.poll(() => page.locator("h1").textContent()).toBe("Device connected");
    const token = await fetch(idp.endpoints.token, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        device_code: device.device_code,
        client_id: "latchkey",
      }),
    });
    expect(token.status).toBe(200);
    await page.close();
  });
});
