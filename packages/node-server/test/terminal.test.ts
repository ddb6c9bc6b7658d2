import { ErrorCode, escapeText, resolveServer } from "@latchkey/core";
import { startFakeAuthorizationServer } from "@latchkey/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { interactiveLogin, type LoginEvent } from "../src/index.js";
import { failurePage, strayPage, successPage } from "../src/pages.js";
import { escapeTerminal } from "../src/terminal.js";

// S54 (issue 12 point 13, issue 13 point 4): node-server shows server and callback text on the
// terminal (through its events) and on pages only through core's one sanitizer.

/** Every class a terminal or a reader could be fooled by, with how it must be shown. */
const HOSTILE: readonly [string, string][] = [
  ["\u001b[2J\u0007", "\\x1b[2J\\x07"],
  ["a\nLogged in: no", "a\\x0aLogged in: no"],
  ["\r\u0085\u009b", "\\x0d\\x85\\x9b"],
  ["\u202emallory\u202c", "\\u202emallory\\u202c"],
  ["\u2066x\u2069\u061c\u200f", "\\u2066x\\u2069\\u061c\\u200f"],
  ["ad\u200bmin\u200d\u2060\ufeff", "ad\\u200bmin\\u200d\\u2060\\ufeff"],
  ["exam\u00adple", "exam\\xadple"],
  ["a\u2028b\u2029c", "a\\u2028b\\u2029c"],
  ["\ud800", "\\ud800"],
  ["\u{e0041}", "\\udb40\\udc41"],
];

/**
 * Anything that must not be written raw (written out, not taken from the implementation); the
 * texts checked have no emoji, so any surrogate here is a lone one.
 */
const RAW =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/;

describe("escapeTerminal is core's escapeText", () => {
  it.each(HOSTILE)("shows %j as %s", (input, shown) => {
    expect(escapeTerminal(input)).toBe(shown);
    expect(escapeTerminal(input)).toBe(escapeText(input));
  });

  it("leaves ordinary text alone", () => {
    expect(escapeTerminal("WDJB-MJHT café 認証 ☕ 😀")).toBe("WDJB-MJHT café 認証 ☕ 😀");
  });
});

describe("pages show server and callback text escaped, then HTML-escaped", () => {
  it.each(HOSTILE)("failure and stray pages show %j as %s", (input, shown) => {
    for (const html of [failurePage({}, `why: ${input}`), strayPage(`why: ${input}`)]) {
      expect(html).toContain(`<p>why: ${shown}</p>`);
      const reason = html.slice(
        html.indexOf("<p>why: "),
        html.indexOf("</p>", html.indexOf("<p>why: ")),
      );
      expect(reason).not.toMatch(RAW);
    }
  });

  it("escapes for the terminal first, HTML second", () => {
    expect(failurePage({}, "<b>\u202e</b>")).toContain("<p>&#60;b&#62;\\u202e&#60;/b&#62;</p>");
    expect(successPage({ endpointName: "as\u202e.example" })).toContain(
      "Successfully logged into as\\u202e.example",
    );
  });

  it("a hostile server's error_description on the real loopback error page (one line, visible escapes)", async () => {
    const fake = await startFakeAuthorizationServer();
    onTestFinished(() => fake.close());
    const description = "Denied.\nLogged in: yes\u202e\u2028\u200b\u001b[2J";
    // The hostile server answers the authorization request with an error redirect of its own.
    fake.use(async (request, next, info) => {
      if (info.endpoint !== "authorize") return next();
      const query = new URL(request.url).searchParams;
      const back = new URL(query.get("redirect_uri") as string);
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", description);
      back.searchParams.set("state", query.get("state") as string);
      back.searchParams.set("iss", fake.issuer);
      return new Response(null, { status: 302, headers: { location: back.href } });
    });
    const client = { issuer: fake.issuer, clientId: "latchkey", scopes: ["openid"] };
    const server = await resolveServer(client, { cache: false });
    let page = "";
    const login = interactiveLogin({
      client,
      server,
      mode: "browser",
      singleFlight: false,
      browser: async (url) => {
        // The user's browser: follows the server's redirect to the loopback callback and reads the page.
        const answer = await fetch(url, { redirect: "manual" });
        const callback = answer.headers.get("location") as string;
        page = await (await fetch(callback)).text();
      },
    });
    const error = await login.then(
      () => undefined,
      (caught: unknown) => caught as Error & { code?: string },
    );
    expect(error?.code).toBe(ErrorCode.AUTHORIZATION_DENIED);
    const shown = "Denied.\\x0aLogged in: yes\\u202e\\u2028\\u200b\\x1b[2J";
    expect(error?.message).toContain(shown);
    expect(error?.message).not.toMatch(RAW);
    await expect.poll(() => page).toContain("Login failed");
    const reason = page.slice(page.indexOf("<p>"), page.indexOf("</p>"));
    expect(reason).toContain(shown);
    expect(reason).not.toMatch(RAW);
  });
});

describe("device flow events and errors carry no raw control, bidi or format character", () => {
  it("a hostile user_code, verification_uri and error_description are reported escaped", async () => {
    const fake = await startFakeAuthorizationServer({ deviceIntervalSeconds: 1 });
    onTestFinished(() => fake.close());
    fake.use(async (_request, next, info) => {
      if (info.endpoint === "token") {
        return Response.json(
          { error: "access_denied", error_description: "no\nSubject: mallory\u2066\u00ad" },
          { status: 400, headers: { "cache-control": "no-store" } },
        );
      }
      const response = await next();
      if (info.endpoint !== "device_authorization" || response.status !== 200) return response;
      const body = (await response.json()) as Record<string, unknown>;
      body.user_code = `${body.user_code as string}\u2028Logged in: no\u200b`;
      body.verification_uri = `${body.verification_uri as string}?\ufeff\u2067`;
      delete body.verification_uri_complete;
      return Response.json(body, { headers: { "cache-control": "no-store" } });
    });
    const client = { issuer: fake.issuer, clientId: "latchkey", scopes: ["openid"] };
    const server = await resolveServer(client, { cache: false });
    const events: LoginEvent[] = [];
    const error = await interactiveLogin({
      client,
      server,
      mode: "device",
      singleFlight: false,
      browser: false,
      sleep: async () => undefined,
      onEvent: (event) => events.push(event),
    }).then(
      () => undefined,
      (caught: unknown) => caught as Error & { code?: string },
    );
    const shown = events.find((e) => e.type === "device-code") as Extract<
      LoginEvent,
      { type: "device-code" }
    >;
    expect(shown.userCode).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}\\u2028Logged in: no\\u200b$/);
    expect(shown.verificationUri).toBe(`${fake.endpoints.deviceVerification}?\\ufeff\\u2067`);
    expect(error?.code).toBe(ErrorCode.AUTHORIZATION_DENIED);
    expect(error?.message).toBe(
      "The device token request was rejected (access_denied): no\\x0aSubject: mallory\\u2066\\xad.",
    );
    for (const text of [shown.userCode, shown.verificationUri, error?.message ?? ""])
      expect(text).not.toMatch(RAW);
  });
});
