import { PassThrough } from "node:stream";
import { ErrorCode, ProtocolError } from "@latchkey/core";
import { judgePastedCallback } from "@latchkey/core/callback";
import { followLoginRedirects } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import { interactiveLogin, NodeServerErrorCode } from "../src/index.js";
import { addressTheBrowserEndsOn, fakeServer } from "./fixtures.js";
import { waitingState } from "./helpers.js";
import { nextEvent, recorder, rejections, until } from "./login-events.js";

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
