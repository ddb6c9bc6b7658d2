// interactiveLogin: single flight, the mode choice, the listener before the browser, no secret in events.
import { PassThrough } from "node:stream";
import { ErrorCode, LatchkeyError } from "@latchkey/core";
import { followLoginRedirects } from "@latchkey/testing";
import { describe, expect, it } from "vitest";
import { interactiveLogin } from "../src/index.js";
import { chooseLoginMode } from "../src/login.js";
import { addressTheBrowserEndsOn, fakeServer } from "./fixtures.js";
import { nextEvent, recorder, until } from "./login-events.js";

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
