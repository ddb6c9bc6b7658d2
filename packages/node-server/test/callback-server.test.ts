import { connect } from "node:net";
import { ErrorCode, LatchkeyError, ProtocolError, TransportError } from "@latchkey/core";
import { afterEach, describe, expect, it } from "vitest";
import { type CallbackServer, NodeServerErrorCode, startCallbackServer } from "../src/index.js";
import { get, raw, waitingState } from "./helpers.js";

const ISS = encodeURIComponent("https://as.example");
const servers: CallbackServer[] = [];
async function start(
  options: Parameters<typeof startCallbackServer>[0] = {},
): Promise<CallbackServer> {
  const server = await startCallbackServer(options);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 0 })));
});

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(true));
  });
}

describe("callback server", () => {
  it("S7 S31: binds 127.0.0.1 on an ephemeral port and names it in the redirect URI", async () => {
    const server = await start();
    expect(server.port).toBeGreaterThan(0);
    expect(server.redirectUri).toBe(`http://127.0.0.1:${server.port}/callback`);
  });

  it("S8: binds ::1 with a bracketed literal in the redirect URI", async (ctx) => {
    let server: CallbackServer;
    try {
      server = await start({ host: "::1" });
    } catch (error) {
      if (error instanceof LatchkeyError && error.code === ErrorCode.CONFIG_INVALID) ctx.skip();
      throw error;
    }
    expect(server.redirectUri).toBe(`http://[::1]:${server.port}/callback`);
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const res = await raw(
      server.port,
      `GET /callback?code=c&state=the-state-value&iss=${ISS} HTTP/1.1\r\nHost: [::1]:${server.port}\r\n\r\n`,
      "::1",
    );
    expect(res.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S23: refuses to bind anything but loopback", async () => {
    await expect(startCallbackServer({ host: "0.0.0.0" as "127.0.0.1" })).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
    });
  });

  it("S31: a busy fixed port fails with PORT_IN_USE", async () => {
    const first = await start();
    await expect(startCallbackServer({ port: first.port })).rejects.toMatchObject({
      code: NodeServerErrorCode.PORT_IN_USE,
    });
  });

  it("S24: a foreign Host header gets 400 and does not consume the flow", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const evil = await get(
      server.port,
      `/callback?code=c&state=the-state-value&iss=${ISS}`,
      {},
      `evil.example:${server.port}`,
    );
    expect(evil.status).toBe(400);
    const localhost = await get(
      server.port,
      `/callback?code=c&state=the-state-value&iss=${ISS}`,
      {},
      `localhost:${server.port}`,
    );
    expect(localhost.status).toBe(400);
    const ok = await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`);
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S25 S26: favicon, other paths, other methods and prefetch are answered without consuming the flow", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    expect((await get(server.port, "/favicon.ico")).status).toBe(404);
    expect((await get(server.port, "/callback/extra?code=c&state=the-state-value")).status).toBe(
      404,
    );
    const post = await raw(
      server.port,
      `POST /callback?code=c&state=the-state-value HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 0\r\n\r\n`,
    );
    expect(post.status).toBe(405);
    const prefetch = await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`, {
      "Sec-Purpose": "prefetch",
    });
    expect(prefetch.status).toBe(503);
    const ok = await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`);
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S15 S26: a wrong or missing state is refused and the login keeps waiting", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    expect((await get(server.port, `/callback?code=c&state=other&iss=${ISS}`)).status).toBe(400);
    expect((await get(server.port, `/callback?code=c&iss=${ISS}`)).status).toBe(400);
    expect((await get(server.port, `/callback?error=access_denied&state=other`)).status).toBe(400);
    const ok = await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`);
    expect(ok.status).toBe(303);
    const received = await pending;
    expect(new URLSearchParams(received.callbackQuery).get("code")).toBe("c");
  });

  it("S16: duplicate parameters are refused", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    expect(
      (await get(server.port, `/callback?code=a&code=b&state=the-state-value&iss=${ISS}`)).status,
    ).toBe(400);
    expect(
      (
        await get(
          server.port,
          `/callback?code=c&state=the-state-value&state=the-state-value&iss=${ISS}`,
        )
      ).status,
    ).toBe(400);
    expect(
      (await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`)).status,
    ).toBe(303);
    await pending;
  });

  it("S26: survives a flood of junk requests, then the valid callback still succeeds", async () => {
    const server = await start({ maxRequests: 500 });
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const junk = [];
    for (let i = 0; i < 100; i++) {
      junk.push(get(server.port, i % 3 === 0 ? "/favicon.ico" : `/callback?state=x${i}&code=y`));
      junk.push(raw(server.port, `GARBAGE\r\n\r\n`).catch(() => undefined));
    }
    await Promise.all(junk);
    const ok = await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`);
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S26 S28 S29: the valid callback gets a 303 to a clean /done page; a second callback is refused", async () => {
    const server = await start({ endpointName: "example.com" });
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const ok = await get(
      server.port,
      `/callback?code=c&state=the-state-value&iss=${ISS}&next=https://evil.example/`,
    );
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe("/done");
    await pending;
    const done = await get(server.port, "/done");
    expect(done.status).toBe(200);
    expect(done.body).toContain("<title>OAuth2 Authentication Success</title>");
    expect(done.body).toContain("Successfully logged into example.com");
    expect(done.body).not.toMatch(/https?:\/\/(?!www\.w3)/);
    expect(done.headers["referrer-policy"]).toBe("no-referrer");
    expect(done.headers["cache-control"]).toBe("no-store");
    const again = await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`);
    expect(again.status).toBe(409);
  });

  it("S27: reflected error text is escaped and the security headers are set", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    pending.catch(() => undefined);
    const res = await get(
      server.port,
      `/callback?error=access_denied&error_description=${encodeURIComponent("<script>alert(1)</script>")}&state=the-state-value&iss=${ISS}`,
    );
    expect(res.status).toBe(303);
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      code: ErrorCode.AUTHORIZATION_DENIED,
      oauth: { error: "access_denied" },
    });
    const done = await get(server.port, "/done");
    expect(done.body).not.toContain("<script>");
    expect(done.body).toContain("&#60;script&#62;");
    expect(done.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(done.headers["x-content-type-options"]).toBe("nosniff");
    expect(done.headers["content-security-policy"]).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    );
  });

  it("custom success and failure HTML replace the default pages (defect 4)", async () => {
    const server = await start({
      successHtml: "<p>custom ok</p>",
      failureHtml: "<p>custom fail</p>",
    });
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    await get(server.port, `/callback?code=c&state=the-state-value&iss=${ISS}`);
    await pending;
    expect((await get(server.port, "/done")).body).toBe("<p>custom ok</p>");
    const second = await start({
      successHtml: "<p>custom ok</p>",
      failureHtml: "<p>custom fail</p>",
    });
    const failing = second.waitForCallback(waitingState(second.redirectUri));
    failing.catch(() => undefined);
    await get(second.port, `/callback?error=access_denied&state=the-state-value&iss=${ISS}`);
    await expect(failing).rejects.toBeInstanceOf(ProtocolError);
    expect((await get(second.port, "/done")).body).toBe("<p>custom fail</p>");
  });

  it("S17: a callback from another issuer fails the login", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    pending.catch(() => undefined);
    await get(
      server.port,
      `/callback?code=c&state=the-state-value&iss=${encodeURIComponent("https://evil.example")}`,
    );
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.ISS_MISMATCH });
  });

  it("S30: times out, rejects with TIMEOUT and frees the port", async () => {
    const server = await start({ timeoutMs: 150 });
    const error = await server
      .waitForCallback(waitingState(server.redirectUri))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT });
    expect(await portIsClosed(server.port)).toBe(true);
  });

  it("S30: an AbortSignal cancels the wait and frees the port", async () => {
    const controller = new AbortController();
    const server = await start({ signal: controller.signal });
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    controller.abort(); // the wait has started: it is what the signal cancels
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.ABORTED });
    expect(await portIsClosed(server.port)).toBe(true);
  });

  it("S23: close() leaves no listener behind", async () => {
    const server = await start();
    await server.close();
    expect(await portIsClosed(server.port)).toBe(true);
  });
});
