import { PassThrough } from "node:stream";
import { ErrorCode, LatchkeyError, ProtocolError } from "@latchkey/core";
import { judgePastedCallback } from "@latchkey/core/callback";
import { followLoginRedirects } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import { interactiveLogin, type LoginEvent, NodeServerErrorCode } from "../src/index.js";
import { chooseLoginMode } from "../src/login.js";
import { addressTheBrowserEndsOn, fakeServer } from "./fixtures.js";
import { waitingState } from "./helpers.js";

/** Who waits for the next event of a recorder's list (woken by each event, never polled). */
const waiters = new WeakMap<LoginEvent[], Set<() => void>>();

function recorder(): { events: LoginEvent[]; onEvent: (e: LoginEvent) => void } {
  const events: LoginEvent[] = [];
  const wake = new Set<() => void>();
  waiters.set(events, wake);
  return {
    events,
    onEvent: (e) => {
      events.push(e);
      for (const waiter of wake) waiter();
    },
  };
}

/** Resolves once `ready()` holds of a recorder's events (the test's timeout is the hang guard). */
function until(events: LoginEvent[], ready: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const wake = waiters.get(events);
    const look = (): void => {
      if (!ready()) return;
      wake?.delete(look);
      resolve();
    };
    wake?.add(look);
    look();
  });
}

async function nextEvent<T extends LoginEvent["type"]>(
  events: LoginEvent[],
  type: T,
  after = 0,
): Promise<Extract<LoginEvent, { type: T }>> {
  const found = (): LoginEvent | undefined => events.slice(after).find((e) => e.type === type);
  await until(events, () => found() !== undefined);
  return found() as Extract<LoginEvent, { type: T }>;
}

const rejections = (events: LoginEvent[]): number =>
  events.filter((e) => e.type === "paste-rejected").length;

describe("browser mode", () => {
  it("S5 S7: the injected opener is the only browser; the login completes through the loopback server", async () => {
    const { fake, client, server } = await fakeServer();
    const opened: string[] = [];
    const { events, onEvent } = recorder();
    const credentials = await interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      browser: async (url) => {
        opened.push(url);
        void followLoginRedirects(url);
      },
      onEvent,
    });
    expect(credentials.accessToken).toBeTruthy();
    expect(opened).toHaveLength(1);
    const listening = events.find((e) => e.type === "listening");
    expect(listening).toMatchObject({
      redirectUri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/callback$/),
    });
    expect(new URL(opened[0] as string).searchParams.get("redirect_uri")).toBe(
      (listening as { redirectUri: string }).redirectUri,
    );
    expect(events.map((e) => e.type)).toEqual([
      "mode",
      "listening",
      "authorization-url",
      "browser-opened",
      "callback-received",
      "token-exchanged",
    ]);
    expect(events.find((e) => e.type === "callback-received")).toMatchObject({ via: "loopback" });
    expect(fake.count("token")).toBe(1);
  });

  it("S8: a login over ::1 and over 'localhost' completes (the fake registers both)", async () => {
    const { client, server } = await fakeServer();
    for (const host of ["::1", "localhost", "both"] as const) {
      const { events, onEvent } = recorder();
      await interactiveLogin({
        client,
        server,
        mode: "browser",
        singleFlight: false,
        callback: { host },
        browser: async (url) => {
          void followLoginRedirects(url);
        },
        onEvent,
      });
      const listening = events.find((e) => e.type === "listening") as { redirectUri: string };
      const expected = host === "::1" ? "[::1]" : host === "localhost" ? "localhost" : "127.0.0.1";
      expect(new URL(listening.redirectUri).host).toMatch(
        new RegExp(`^${expected.replace(/[[\]]/g, "\\$&")}:\\d+$`),
      );
    }
  });

  it("S5: an opener that fails is reported as BROWSER_FAILED, and a pasted address then completes the login", async () => {
    const { fake, client, server } = await fakeServer();
    const input = new PassThrough();
    const { events, onEvent } = recorder();
    const login = interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      browser: { command: ["/nonexistent/latchkey-browser"] },
      input,
      onEvent,
    });
    const failed = await nextEvent(events, "browser-failed");
    expect(failed.error.code).toBe(NodeServerErrorCode.BROWSER_FAILED);
    expect(failed.pasteAccepted).toBe(true);
    await nextEvent(events, "paste-prompt");
    const order = events.map((e) => e.type);
    expect(order.indexOf("browser-failed")).toBeLessThan(order.indexOf("paste-prompt"));
    const { url } = await nextEvent(events, "authorization-url");
    const { redirectUri } = await nextEvent(events, "listening");
    input.write(`${await addressTheBrowserEndsOn(url, redirectUri)}\n`);
    await expect(login).resolves.toMatchObject({ accessToken: expect.any(String) });
    expect(events.find((e) => e.type === "callback-received")).toMatchObject({ via: "paste" });
    expect(fake.count("token")).toBe(1);
  });
});

describe("paste mode", () => {
  it("S15 S16: a stray paste, a bare code and duplicates are refused without a token request; the right address completes", async () => {
    const { fake, client, server } = await fakeServer();
    const input = new PassThrough();
    const { events, onEvent } = recorder();
    const login = interactiveLogin({
      client,
      server,
      mode: "paste",
      singleFlight: false,
      input,
      maxPasteAttempts: 5,
      onEvent,
    });
    const { url } = await nextEvent(events, "authorization-url");
    expect((await nextEvent(events, "authorization-url")).opening).toBe(false);
    const { redirectUri } = await nextEvent(events, "listening");
    const good = await addressTheBrowserEndsOn(url, redirectUri);
    const goodUrl = new URL(good);
    const stray = new URL(good);
    stray.searchParams.set("state", "someone-elses-state");
    const code = goodUrl.searchParams.get("code") as string;

    input.write(`${stray.href}\n`);
    const first = await nextEvent(events, "paste-rejected");
    expect(first).toMatchObject({ code: ErrorCode.STATE_MISMATCH, attemptsLeft: 4 });
    input.write(`${code}\n`);
    await until(events, () => rejections(events) === 2);
    input.write(`${good}&code=again\n`);
    await until(events, () => rejections(events) === 3);
    input.write(`https://evil.example/callback${goodUrl.search}\n`);
    await until(events, () => rejections(events) === 4);
    const rejected = events.filter((e) => e.type === "paste-rejected");
    expect(rejected.map((e) => e.code)).toEqual([
      ErrorCode.STATE_MISMATCH,
      ErrorCode.STATE_MISMATCH,
      ErrorCode.CALLBACK_INVALID,
      ErrorCode.CALLBACK_INVALID,
    ]);
    // S42: no refusal echoes the paste.
    for (const e of rejected) {
      expect(e.reason).not.toContain(code);
      expect(e.reason).not.toContain(goodUrl.searchParams.get("state") as string);
    }
    expect(fake.count("token")).toBe(0);
    input.write(`  ${good}  \n`);
    await expect(login).resolves.toMatchObject({ accessToken: expect.any(String) });
    expect(fake.count("token")).toBe(1);
  }, 15_000);

  it("S15: after maxPasteAttempts refusals the login fails, nothing reaches /token, the port is freed", async () => {
    const { fake, client, server } = await fakeServer();
    const input = new PassThrough();
    const { events, onEvent } = recorder();
    const login = interactiveLogin({
      client,
      server,
      mode: "paste",
      singleFlight: false,
      input,
      maxPasteAttempts: 2,
      onEvent,
    });
    login.catch(() => undefined);
    await nextEvent(events, "paste-prompt");
    input.write("just-a-code\n?code=x&state=nope\n");
    const error = await login.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: ErrorCode.STATE_MISMATCH });
    expect(fake.count("token")).toBe(0);
    const { redirectUri } = await nextEvent(events, "listening");
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it("S15: a pasted error response with the right state fails the login at once (AUTHORIZATION_DENIED)", async () => {
    const { fake, client, server } = await fakeServer();
    const input = new PassThrough();
    const { events, onEvent } = recorder();
    const login = interactiveLogin({
      client,
      server,
      mode: "paste",
      singleFlight: false,
      input,
      onEvent,
    });
    login.catch(() => undefined);
    const { url } = await nextEvent(events, "authorization-url");
    const { redirectUri } = await nextEvent(events, "listening");
    const state = new URL(url).searchParams.get("state") as string;
    input.write(
      `${redirectUri}?error=access_denied&state=${state}&iss=${encodeURIComponent(fake.issuer)}\n`,
    );
    await expect(login).rejects.toMatchObject({ code: ErrorCode.AUTHORIZATION_DENIED });
    expect(fake.count("token")).toBe(0);
  });

  it("the input ending before a paste is a login not completed (ProtocolError CALLBACK_INVALID), not an interrupt", async () => {
    const { client, server } = await fakeServer();
    const input = new PassThrough();
    const login = interactiveLogin({ client, server, mode: "paste", singleFlight: false, input });
    input.end();
    await expect(login).rejects.toBeInstanceOf(ProtocolError);
    await expect(login).rejects.toMatchObject({
      code: ErrorCode.CALLBACK_INVALID,
      message: expect.stringMatching(/no redirect address was pasted: the input ended/i),
    });
  });

  it("paste mode still listens: a browser on this machine completes the login by itself", async () => {
    const { client, server } = await fakeServer();
    const input = new PassThrough();
    const { events, onEvent } = recorder();
    const login = interactiveLogin({
      client,
      server,
      mode: "paste",
      singleFlight: false,
      input,
      onEvent,
    });
    const { url } = await nextEvent(events, "authorization-url");
    await followLoginRedirects(url);
    await expect(login).resolves.toMatchObject({ accessToken: expect.any(String) });
    expect(events.find((e) => e.type === "callback-received")).toMatchObject({ via: "loopback" });
  });

  it("judgePastedCallback accepts the query alone, and refuses a bare code", () => {
    const state = waitingState("http://127.0.0.1:5000/callback");
    const iss = encodeURIComponent("https://as.example");
    expect(judgePastedCallback(state, "   ")).toBeUndefined();
    expect(judgePastedCallback(state, `?code=c&state=the-state-value&iss=${iss}`)?.outcome).toBe(
      "accepted",
    );
    expect(judgePastedCallback(state, `code=c&state=the-state-value&iss=${iss}`)?.outcome).toBe(
      "accepted",
    );
    expect(
      judgePastedCallback(
        state,
        `<http://127.0.0.1:5000/callback?code=c&state=the-state-value&iss=${iss}>`,
      )?.outcome,
    ).toBe("accepted");
    const bare = judgePastedCallback(state, "SplxlOBeZQQYbYS6WxSbIA");
    expect(bare).toMatchObject({ outcome: "ignored", error: { code: ErrorCode.STATE_MISMATCH } });
    const wrongPort = judgePastedCallback(
      state,
      `http://127.0.0.1:5001/callback?code=c&state=the-state-value&iss=${iss}`,
    );
    expect(wrongPort?.outcome).toBe("ignored");
  });
});

describe("single flight and mode choice", () => {
  it("two logins started at once share one browser login and one port", async () => {
    const { fake, client, server } = await fakeServer();
    let opened = 0;
    const second = recorder();
    const browser = async (url: string): Promise<void> => {
      opened++;
      // The login stays open until the second caller has joined it.
      await until(second.events, () => second.events.length > 0);
      void followLoginRedirects(url);
    };
    const [a, b] = await Promise.all([
      interactiveLogin({ client, server, mode: "browser", browser, callback: { port: 0 } }),
      interactiveLogin({ client, server, mode: "browser", browser, onEvent: second.onEvent }),
    ]);
    expect(opened).toBe(1);
    expect(a).toBe(b);
    expect(second.events).toEqual([{ type: "joined" }]);
    expect(fake.count("token")).toBe(1);
    expect(fake.count("authorize")).toBe(1);
    // Once settled, the next login is a new one.
    await interactiveLogin({ client, server, mode: "browser", browser });
    expect(opened).toBe(2);
  });

  it("a joining caller's signal stops only its own wait", async () => {
    const { client, server } = await fakeServer();
    // The browser is opened, but the user acts only once the second caller has given up.
    let opened: (url: string) => void = () => undefined;
    const browserOpened = new Promise<string>((resolve) => {
      opened = resolve;
    });
    const browser = (url: string): Promise<void> => {
      opened(url);
      return Promise.resolve();
    };
    const first = interactiveLogin({ client, server, mode: "browser", browser });
    const controller = new AbortController();
    const second = interactiveLogin({
      client,
      server,
      mode: "browser",
      browser,
      signal: controller.signal,
    });
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    void followLoginRedirects(await browserOpened);
    await expect(first).resolves.toMatchObject({ accessToken: expect.any(String) });
  });

  it("auto: browser when one can be opened, else device when offered, else paste", () => {
    const withDevice = {
      issuer: "https://as.example",
      device_authorization_endpoint: "https://as.example/device",
    };
    const without = { issuer: "https://as.example" };
    const headless = { env: { PATH: "/usr/bin" }, platform: "linux" as const };
    expect(chooseLoginMode({ server: without, browser: { command: "x" } })).toEqual({
      mode: "browser",
    });
    expect(chooseLoginMode({ server: without, browser: async () => undefined })).toEqual({
      mode: "browser",
    });
    expect(chooseLoginMode({ server: withDevice, browser: headless })).toEqual({
      mode: "device",
      reason: "there is no graphical display ($DISPLAY is not set)",
    });
    expect(chooseLoginMode({ server: without, browser: headless }).mode).toBe("paste");
    expect(chooseLoginMode({ server: withDevice, browser: false })).toEqual({
      mode: "device",
      reason: "opening a browser is turned off",
    });
    expect(chooseLoginMode({ server: withDevice, mode: "paste" })).toEqual({ mode: "paste" });
  });

  it("S30: an aborted login frees the port and rejects with ABORTED", async () => {
    const { client, server } = await fakeServer();
    const controller = new AbortController();
    const { events, onEvent } = recorder();
    const login = interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      browser: false,
      signal: controller.signal,
      onEvent,
    });
    const { redirectUri } = await nextEvent(events, "listening");
    controller.abort();
    await expect(login).rejects.toBeInstanceOf(LatchkeyError);
    await expect(login).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    await expect(fetch(redirectUri)).rejects.toThrow();
  });
});

describe("S31 S42", () => {
  it("S31: the listener is up before the browser opens", async () => {
    const { client, server } = await fakeServer();
    await interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      browser: async (url) => {
        const redirectUri = new URL(url).searchParams.get("redirect_uri") as string;
        const probe = await fetch(new URL("/favicon.ico", redirectUri));
        expect(probe.status).toBe(404);
        void followLoginRedirects(url);
      },
    });
  });

  it("S42: no event (other than the URL shown to the user) and no error carries the code, state or verifier", async () => {
    const { fake, client, server } = await fakeServer();
    const input = new PassThrough();
    const { events, onEvent } = recorder();
    const errors: unknown[] = [];
    // A paste login with a refused paste, then a failed login, then a successful one.
    const login = interactiveLogin({
      client,
      server,
      mode: "paste",
      singleFlight: false,
      input,
      onEvent,
    });
    const { url } = await nextEvent(events, "authorization-url");
    const { redirectUri } = await nextEvent(events, "listening");
    const landed = await addressTheBrowserEndsOn(url, redirectUri);
    const stray = new URL(landed);
    stray.searchParams.set("state", "x");
    input.write(`${stray.href}\n${new URL(landed).searchParams.get("code")}\n${landed}\n`);
    await login;
    fake.setFault({ name: "authorize:iss-wrong", times: 1 });
    await interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      browser: async (u) => {
        void followLoginRedirects(u);
      },
      onEvent,
    }).catch((e: unknown) => errors.push(e));
    expect(errors).toHaveLength(1);
    const secrets = fake.requests.flatMap((r) =>
      [r.params.state, r.params.code, r.params.code_verifier, r.params.code_challenge].filter(
        (v): v is string => typeof v === "string" && v.length > 8,
      ),
    );
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const logged = JSON.stringify([
      events.map((e) =>
        e.type === "authorization-url" ? { ...e, url: "(shown to the user)" } : e,
      ),
      errors.map((e) => ({
        message: (e as Error).message,
        stack: (e as Error).stack,
        ...(e as object),
      })),
    ]);
    for (const secret of secrets) expect(logged).not.toContain(secret);
  });
});
