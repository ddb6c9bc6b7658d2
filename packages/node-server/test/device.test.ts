import { ErrorCode, ProtocolError, resolveServer } from "@latchkey/core";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { interactiveLogin, type LoginEvent } from "../src/index.js";
import { escapeTerminal } from "../src/terminal.js";

const HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202e";

/** A fake server on a clock that only the injected `sleep` advances: no real waiting. */
async function deviceSetup(options: { hostile?: boolean; complete?: string } = {}) {
  let clock = Date.now();
  const now = (): number => clock;
  const fake = await startFakeAuthorizationServer({ now, deviceIntervalSeconds: 5 });
  onTestFinished(() => fake.close());
  const realCodes: string[] = [];
  if (options.hostile || options.complete) {
    fake.use(async (_request, next, info) => {
      const response = await next();
      if (info.endpoint !== "device_authorization" || response.status !== 200) return response;
      const body = (await response.json()) as Record<string, unknown>;
      realCodes.push(body.user_code as string);
      if (options.hostile) {
        body.user_code = `${body.user_code as string}${HOSTILE}`;
        body.verification_uri = `${body.verification_uri as string}?\x1b[8m`;
      }
      if (options.complete) body.verification_uri_complete = options.complete;
      return Response.json(body, { headers: { "cache-control": "no-store" } });
    });
  } else {
    fake.use(async (_request, next, info) => {
      const response = await next();
      if (info.endpoint === "device_authorization" && response.status === 200) {
        realCodes.push(((await response.clone().json()) as { user_code: string }).user_code);
      }
      return response;
    });
  }
  const client = { issuer: fake.issuer, clientId: "latchkey", scopes: ["openid"], now };
  const server = await resolveServer(client, { cache: false });
  const sleeps: number[] = [];
  const hooks: { beforeWake?: (n: number) => Promise<void> } = {};
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
    clock += ms;
    await hooks.beforeWake?.(sleeps.length);
  };
  return { fake, client, server, sleep, sleeps, hooks, realCodes };
}

/** The user on the verification page: opens it and presses "Allow". */
async function approveOnPage(verificationUriComplete: string): Promise<void> {
  const url = new URL(verificationUriComplete);
  const page = await fetch(url);
  expect(page.status).toBe(200);
  const form = new URLSearchParams({
    user_code: url.searchParams.get("user_code") ?? "",
    action: "approve",
  });
  const answer = await fetch(new URL(url.pathname, url), { method: "POST", body: form });
  expect(answer.status).toBe(200);
}

describe("device flow", () => {
  it("S48 S49 S50: codes are reported escaped, the browser opens verification_uri_complete, slow_down adds 5 s, approval on the page completes", async () => {
    const { fake, client, server, sleep, sleeps, hooks } = await deviceSetup({ hostile: true });
    fake.setFault({ name: "device:slow_down", times: 1 });
    const events: LoginEvent[] = [];
    const opened: string[] = [];
    hooks.beforeWake = async (n) => {
      if (n === 3) await approveOnPage(opened[0] as string);
    };
    const credentials = await interactiveLogin({
      client,
      server,
      mode: "device",
      singleFlight: false,
      sleep,
      browser: async (url) => {
        opened.push(url);
      },
      onEvent: (e) => events.push(e),
    });
    expect(credentials.accessToken).toBeTruthy();
    const shown = events.find((e) => e.type === "device-code") as Extract<
      LoginEvent,
      { type: "device-code" }
    >;
    expect(shown.userCode).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}\\x1b\]0;pwned\\x07\\x1b\[2J\\u202e$/);
    expect(shown.verificationUri).toBe(`${fake.endpoints.deviceVerification}?\\x1b[8m`);
    for (const text of [
      shown.userCode,
      shown.verificationUri,
      shown.verificationUriComplete ?? "",
    ]) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
      expect(text).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
    }
    expect(shown.opening).toBe(true);
    expect(opened).toEqual([
      expect.stringContaining(`${fake.endpoints.deviceVerification}?user_code=`),
    ]);
    // slow_down on the first poll: 5 s, then 10 s for every later poll (S49).
    expect(sleeps).toEqual([5000, 10000, 10000]);
    expect(events.filter((e) => e.type === "device-poll").map((e) => e.type)).toHaveLength(3);
    expect(events.at(-1)).toEqual({ type: "token-exchanged" });
    expect(fake.count("token", { grantType: "urn:ietf:params:oauth:grant-type:device_code" })).toBe(
      3,
    );
  });

  it("auto picks the device flow when no browser can be opened and the server offers it; nothing is opened", async () => {
    const { fake, client, server, sleep, hooks, realCodes } = await deviceSetup();
    hooks.beforeWake = async () => fake.approveDevice(realCodes[0] as string);
    const events: LoginEvent[] = [];
    await interactiveLogin({
      client,
      server,
      mode: "auto",
      singleFlight: false,
      sleep,
      browser: { env: { PATH: "" }, platform: "linux" },
      onEvent: (e) => events.push(e),
    });
    expect(events[0]).toEqual({
      type: "mode",
      mode: "device",
      reason: "there is no graphical display ($DISPLAY is not set)",
    });
    expect(events.find((e) => e.type === "device-code")).toMatchObject({ opening: false });
    expect(events.some((e) => e.type === "browser-opened" || e.type === "browser-failed")).toBe(
      false,
    );
  });

  it("S50: a verification_uri_complete that is not a web address is shown escaped but never opened", async () => {
    const { fake, client, server, sleep, hooks, realCodes } = await deviceSetup({
      complete: "javascript:alert(1)//\x1b[2J",
    });
    hooks.beforeWake = async () => fake.approveDevice(realCodes[0] as string);
    const opened: string[] = [];
    const events: LoginEvent[] = [];
    await interactiveLogin({
      client,
      server,
      mode: "device",
      singleFlight: false,
      sleep,
      browser: async (url) => {
        opened.push(url);
      },
      onEvent: (e) => events.push(e),
    });
    expect(opened).toEqual([]);
    expect(events.find((e) => e.type === "device-code")).toMatchObject({
      opening: false,
      verificationUriComplete: "javascript:alert(1)//\\x1b[2J",
    });
  });

  it("S49: access_denied on the page stops polling with AUTHORIZATION_DENIED", async () => {
    const { fake, client, server, sleep, hooks, realCodes } = await deviceSetup();
    hooks.beforeWake = async () => fake.denyDevice(realCodes[0] as string);
    const error = await interactiveLogin({
      client,
      server,
      mode: "device",
      singleFlight: false,
      sleep,
      browser: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: ErrorCode.AUTHORIZATION_DENIED });
  });

  it("S30: the device login times out with TIMEOUT after timeoutMs", async () => {
    const { client, server } = await deviceSetup();
    const error = await interactiveLogin({
      client,
      server,
      mode: "device",
      singleFlight: false,
      browser: false,
      timeoutMs: 100,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener("abort", () =>
            reject(Object.assign(new Error("aborted"), { name: "AbortError" })),
          );
        }),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT });
  });
});

describe("escapeTerminal", () => {
  it("S50: escapes C0, DEL, C1 and bidi controls and keeps the rest as received", () => {
    expect(escapeTerminal("ABCD-EFGH")).toBe("ABCD-EFGH");
    expect(escapeTerminal("a\x1b[31mb\x07\r\n\x7f\x9b")).toBe(
      "a\\x1b[31mb\\x07\\x0d\\x0a\\x7f\\x9b",
    );
    expect(escapeTerminal("x\u202ey\u2066z\u200f")).toBe("x\\u202ey\\u2066z\\u200f");
    expect(escapeTerminal("café ☕ 認証")).toBe("café ☕ 認証");
  });
});
