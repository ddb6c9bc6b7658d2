import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import type { BrowserCommand } from "vitest/node";

// Core runs in real Chromium (Debian's); the fake authorization server runs here, in Node,
// over a real loopback socket, and answers CORS. Commands are how the page reaches it.
let idp: RunningFakeAuthorizationServer | undefined;

const startIdp: BrowserCommand<[]> = async () => {
  const { startFakeAuthorizationServer } = await import("@latchkey/testing");
  await idp?.close();
  idp = await startFakeAuthorizationServer({ deviceIntervalSeconds: 1 });
  return idp.issuer;
};
/** The user's browser tab: follows the authorize endpoint to where it redirects. */
const authorize: BrowserCommand<[url: string]> = async (_ctx, url) => {
  const response = await fetch(url, { redirect: "manual" });
  return response.headers.get("location");
};
const approveDevice: BrowserCommand<[userCode: string]> = async (_ctx, userCode) => {
  idp?.approveDevice(userCode);
};
const stopIdp: BrowserCommand<[]> = async () => {
  await idp?.close();
  idp = undefined;
};
const countRequests: BrowserCommand<[endpoint: string, grantType?: string]> = async (
  _ctx,
  endpoint,
  grantType,
) => idp?.count(endpoint as never, grantType ? { grantType } : undefined) ?? -1;

export default defineConfig({
  test: {
    include: ["test/browser/**/*.browser.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-results-browser.json" },
    testTimeout: 20_000,
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      }),
      instances: [{ browser: "chromium" }],
      commands: { startIdp, stopIdp, authorize, approveDevice, countRequests },
    },
  },
});
