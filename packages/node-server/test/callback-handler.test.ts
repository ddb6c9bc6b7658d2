// The callback endpoint as a Web handler, called directly with `new Request(...)`: no socket,
// no port. The same rules as the raw-socket tests of the server that mounts it (S24-S30).
import { ErrorCode, type LatchkeyError, ProtocolError, TransportError } from "@latchkey/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type CallbackHandler,
  type CallbackHandlerOptions,
  createCallbackHandler,
} from "../src/index.js";
import { waitingState } from "./helpers.js";

const AUTHORITY = "127.0.0.1:53124";
const REDIRECT_URI = `http://${AUTHORITY}/callback`;
const ISS = encodeURIComponent("https://as.example");
const VALID = `/callback?code=sentinel-code&state=the-state-value&iss=${ISS}`;

afterEach(() => {
  vi.useRealTimers();
});

function handler(options: Partial<CallbackHandlerOptions> = {}): CallbackHandler {
  return createCallbackHandler({ redirectUri: REDIRECT_URI, ...options });
}

function request(
  target: string,
  init: { method?: string; headers?: [string, string][]; host?: string | null } = {},
): Request {
  const headers = new Headers(init.headers ?? []);
  if (init.host !== null) headers.set("Host", init.host ?? AUTHORITY);
  return new Request(`http://${AUTHORITY}${target}`, {
    method: init.method ?? "GET",
    headers,
  });
}

/** Starts waiting, and keeps the rejection observed so that a failing login is no unhandled rejection. */
function wait(h: CallbackHandler) {
  const pending = h.waitForCallback(waitingState(REDIRECT_URI));
  pending.catch(() => undefined);
  return pending;
}

describe("createCallbackHandler: requests that are not the callback (S24, S25, S26)", () => {
  it("S24: a foreign, missing or repeated Host gets 400 with Connection: close and does not consume the login", async () => {
    const h = handler();
    const pending = wait(h);
    for (const host of ["evil.example:53124", "localhost:53124", "127.0.0.1:53125", null]) {
      const res = h(request(VALID, { host }));
      expect(res.status, String(host)).toBe(400);
      expect(res.headers.get("connection")).toBe("close");
      expect(await res.text()).toContain("Unexpected Host header.");
    }
    // Two Host headers reach a Web Request merged into one value: refused as well.
    const twice = new Headers();
    twice.append("Host", AUTHORITY);
    twice.append("Host", "evil.example");
    expect(h(new Request(`http://${AUTHORITY}${VALID}`, { headers: twice })).status).toBe(400);
    expect(h(request(VALID)).status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S24: extra hosts (the other loopback family) are accepted, case-insensitively", () => {
    const h = handler({ hosts: ["[::1]:53124"] });
    void wait(h);
    expect(h(request("/favicon.ico", { host: "[::1]:53124" })).status).toBe(404);
    expect(h(request(VALID, { host: "[::1]:53124" })).status).toBe(303);
    const named = createCallbackHandler({ redirectUri: "http://localhost:8400/cb" });
    void named.waitForCallback(waitingState("http://localhost:8400/cb")).catch(() => undefined);
    const res = named(
      new Request(`http://localhost:8400/cb?code=c&state=the-state-value&iss=${ISS}`, {
        headers: { Host: "LOCALHOST:8400" },
      }),
    );
    expect(res.status).toBe(303);
  });

  it("S25: other paths 404, other methods 405 (Allow: GET), HEAD and prefetches 503; the login goes on", async () => {
    const h = handler();
    const pending = wait(h);
    expect(h(request("/favicon.ico")).status).toBe(404);
    expect(h(request("/callback/extra?code=c&state=the-state-value")).status).toBe(404);
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]) {
      const res = h(request(VALID, { method }));
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("GET");
      expect(res.headers.get("connection")).toBe("close");
    }
    expect(h(request(VALID, { method: "HEAD" })).status).toBe(503);
    for (const [name, value] of [
      ["Sec-Purpose", "prefetch"],
      ["Sec-Purpose", "prefetch;prerender"],
      ["Purpose", "prefetch"],
      ["X-Moz", "prefetch"],
    ] as const) {
      const res = h(request(VALID, { headers: [[name, value]] }));
      expect(res.status, `${name}: ${value}`).toBe(503);
      expect(res.headers.get("retry-after")).toBe("0");
    }
    expect(h(request(VALID)).status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S26: a callback before anyone waits gets 409; /done before the end gets 404", () => {
    const h = handler();
    expect(h(request(VALID)).status).toBe(409);
    expect(h(request("/done")).status).toBe(404);
    expect(h.resultPageServed()).toBeUndefined();
  });

  it("S15 S16 S26: stray callbacks get a 400 page naming why, and the login keeps waiting", async () => {
    const h = handler();
    const pending = wait(h);
    const wrong = h(request(`/callback?code=c&state=other&iss=${ISS}`));
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("does not match this login");
    expect(h(request(`/callback?code=c&iss=${ISS}`)).status).toBe(400);
    expect(h(request(`/callback?code=a&code=b&state=the-state-value&iss=${ISS}`)).status).toBe(400);
    expect(h(request(VALID)).status).toBe(303);
    const received = await pending;
    expect(new URLSearchParams(received.callbackQuery).get("code")).toBe("sentinel-code");
  });
});

describe("createCallbackHandler: the callback and the result page (S27, S28, S29)", () => {
  it("S28 S29: the valid callback gets a bodiless 303 to /done, never a Location from the query; a second gets 409", async () => {
    const h = handler({ endpointName: "example.com" });
    const pending = wait(h);
    const ok = h(request(`${VALID}&next=https://evil.example/`));
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/done");
    expect(ok.headers.get("cache-control")).toBe("no-store");
    expect(ok.headers.get("referrer-policy")).toBe("no-referrer");
    expect(ok.body).toBeNull();
    await pending;
    const served = h.resultPageServed();
    expect(served).toBeInstanceOf(Promise);
    const done = h(request("/done"));
    expect(done.status).toBe(200);
    const html = await done.text();
    expect(html).toContain("Successfully logged into example.com");
    expect(html).not.toContain("sentinel-code");
    expect(html).not.toContain("the-state-value");
    expect(done.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(done.headers.get("x-content-type-options")).toBe("nosniff");
    expect(done.headers.get("x-frame-options")).toBe("DENY");
    await served;
    expect(h(request(VALID)).status).toBe(409);
  });

  it("S27: an error response fails the login; the failure page escapes the reflected text", async () => {
    const h = handler();
    const pending = wait(h);
    const res = h(
      request(
        `/callback?error=access_denied&error_description=${encodeURIComponent("<script>alert(1)</script>")}&state=the-state-value&iss=${ISS}`,
      ),
    );
    expect(res.status).toBe(303);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: ErrorCode.AUTHORIZATION_DENIED });
    const html = await h(request("/done")).text();
    expect(html).toContain("Login failed");
    expect(html).not.toContain("<script>");
    expect(html).toContain("&#60;script&#62;");
  });

  it("custom success and failure pages replace the defaults", async () => {
    const ok = handler({ successHtml: "<p>ok</p>", failureHtml: "<p>fail</p>" });
    const received = wait(ok);
    ok(request(VALID));
    await received;
    expect(await ok(request("/done")).text()).toBe("<p>ok</p>");
    const failing = handler({ successHtml: "<p>ok</p>", failureHtml: "<p>fail</p>" });
    const rejected = wait(failing);
    failing(request(`/callback?error=access_denied&state=the-state-value&iss=${ISS}`));
    await expect(rejected).rejects.toBeInstanceOf(ProtocolError);
    expect(await failing(request("/done")).text()).toBe("<p>fail</p>");
  });

  it("S17: a callback from another issuer fails the login", async () => {
    const h = handler();
    const pending = wait(h);
    h(request(`/callback?code=c&state=the-state-value&iss=${encodeURIComponent("https://evil")}`));
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.ISS_MISMATCH });
  });
});

describe("createCallbackHandler: the request budget and the end of the wait (S26, S30)", () => {
  it("S26: only requests that could be the callback count; past maxRequests 429, the wait fails and onAbandon fires once", async () => {
    const abandoned: LatchkeyError[] = [];
    const h = handler({ maxRequests: 3, onAbandon: (error) => abandoned.push(error) });
    const pending = wait(h);
    for (let i = 0; i < 50; i++) {
      expect(h(request(VALID, { host: `rebind${i}.example:53124` })).status).toBe(400);
      expect(h(request("/favicon.ico")).status).toBe(404);
    }
    for (let i = 0; i < 3; i++) {
      expect(h(request(`/callback?code=x&state=wrong${i}&iss=${ISS}`)).status).toBe(400);
    }
    const fourth = h(request(VALID));
    expect(fourth.status).toBe(429);
    expect(fourth.headers.get("connection")).toBe("close");
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.CALLBACK_INVALID });
    expect(abandoned.map((e) => e.code)).toEqual([ErrorCode.CALLBACK_INVALID]);
    expect(h(request(VALID)).status).toBe(429);
    expect(abandoned).toHaveLength(1);
    expect(h.resultPageServed()).toBeUndefined();
  });

  it("S30: the wait times out with TIMEOUT and onAbandon fires", async () => {
    vi.useFakeTimers();
    const abandoned: LatchkeyError[] = [];
    const h = handler({ timeoutMs: 60_000, onAbandon: (error) => abandoned.push(error) });
    const pending = wait(h);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(abandoned).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(abandoned).toHaveLength(1);
    // A late callback finds the login over.
    expect(h(request(VALID)).status).toBe(409);
  });

  it("S30: an AbortSignal, already aborted or aborted while waiting, ends the wait with ABORTED", async () => {
    const controller = new AbortController();
    const abandoned: LatchkeyError[] = [];
    const h = handler({ signal: controller.signal, onAbandon: (e) => abandoned.push(e) });
    const pending = wait(h);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect(abandoned).toHaveLength(1);
    const early = handler({ signal: AbortSignal.abort() });
    await expect(wait(early)).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });

  it("cancel() rejects a pending wait with its error, and a wait after it", async () => {
    const h = handler();
    const pending = wait(h);
    h.cancel(new TransportError(ErrorCode.ABORTED, "stopped by the test"));
    await expect(pending).rejects.toThrow("stopped by the test");
    await expect(h.waitForCallback(waitingState(REDIRECT_URI))).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
    });
    const unused = handler();
    unused.cancel();
    await expect(wait(unused)).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });

  it("waitForCallback twice is a configuration error; the first wait goes on", async () => {
    const h = handler();
    const first = wait(h);
    await expect(h.waitForCallback(waitingState(REDIRECT_URI))).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
    });
    expect(h(request(VALID)).status).toBe(303);
    await expect(first).resolves.toMatchObject({ status: "code-received" });
  });
});

describe("createCallbackHandler: configuration", () => {
  it("the redirect URI must be absolute, without query or fragment, and its path not /done", () => {
    for (const redirectUri of [
      "not a url",
      "http://127.0.0.1:1/callback?x=1",
      "http://127.0.0.1:1/callback#",
      "http://127.0.0.1:1/done",
    ]) {
      expect(() => createCallbackHandler({ redirectUri }), redirectUri).toThrow(
        expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
      );
    }
  });
});
