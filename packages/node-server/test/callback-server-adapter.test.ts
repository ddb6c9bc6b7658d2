// startCallbackServer as an adapter between Node's request/response and the Web handler: what
// only the adapter can get right (methods a Request cannot carry, HEAD, lengths, Connection:
// close reaching the socket, the last page written before the port closes).
import { connect } from "node:net";
import { ErrorCode } from "@latchkey/core";
import { afterEach, describe, expect, it } from "vitest";
import { type CallbackServer, startCallbackServer } from "../src/index.js";
import { get, raw, waitingState } from "./helpers.js";

const ISS = encodeURIComponent("https://as.example");
const VALID = `/callback?code=c&state=the-state-value&iss=${ISS}`;
const servers: CallbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 0 })));
});

async function start(
  options: Parameters<typeof startCallbackServer>[0] = {},
): Promise<CallbackServer> {
  const server = await startCallbackServer(options);
  servers.push(server);
  return server;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

describe("callback server: the Node adapter", () => {
  it("S25: TRACE (which a Web Request cannot carry) gets 405 and does not consume the login", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const res = await raw(
      server.port,
      `TRACE ${VALID} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`,
    );
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe("GET");
    expect((await get(server.port, VALID)).status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S25: HEAD gets the 503 headers with the page's length and no body", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const head = await raw(
      server.port,
      `HEAD ${VALID} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`,
    );
    expect(head.status).toBe(503);
    expect(head.body).toBe("");
    const page = await get(server.port, "/favicon.ico");
    expect(Number(page.headers["content-length"])).toBe(Buffer.byteLength(page.body));
    expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
    expect((await get(server.port, VALID)).status).toBe(303);
    await pending;
  });

  it("S24: a refused Host closes a keep-alive connection (the handler's Connection: close reaches the socket)", async () => {
    const server = await start();
    const res = await raw(
      server.port,
      `GET ${VALID} HTTP/1.1\r\nHost: evil.example\r\nConnection: keep-alive\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(res.headers.connection).toBe("close");
  });

  it("S26: past maxRequests the 429 page is sent before the port closes", async () => {
    const server = await start({ maxRequests: 1 });
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    pending.catch(() => undefined);
    expect((await get(server.port, `/callback?code=x&state=wrong&iss=${ISS}`)).status).toBe(400);
    const second = await get(server.port, VALID);
    expect(second.status).toBe(429);
    expect(second.body).toContain("Too many requests.");
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.CALLBACK_INVALID });
    expect(await canConnect(server.port)).toBe(false);
  });

  it("S28 S30: close() waits for the browser to fetch /done after the callback", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    expect((await get(server.port, VALID)).status).toBe(303);
    await pending;
    const closing = server.close({ graceMs: 60_000 });
    const done = await get(server.port, "/done");
    expect(done.status).toBe(200);
    await closing;
    expect(await canConnect(server.port)).toBe(false);
  });
});
