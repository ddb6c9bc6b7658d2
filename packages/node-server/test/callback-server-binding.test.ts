import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { ErrorCode } from "@latchkey/core";
import { afterEach, describe, expect, it } from "vitest";
import { type CallbackServer, NodeServerErrorCode, startCallbackServer } from "../src/index.js";
import { get, raw, waitingState } from "./helpers.js";

const ISS = encodeURIComponent("https://as.example");
const VALID = `/callback?code=c&state=the-state-value&iss=${ISS}`;
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

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (!info.internal && info.family === "IPv4") return info.address;
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const probe = await startCallbackServer();
  const { port } = probe;
  await probe.close({ graceMs: 0 });
  return port;
}

describe("callback server: binding", () => {
  it("S31: a list of ports is tried in order; the first free one is used and named", async () => {
    const busy = await start();
    const free = await freePort();
    const server = await start({ port: [busy.port, free] });
    expect(server.port).toBe(free);
    expect(server.redirectUri).toBe(`http://127.0.0.1:${free}/callback`);
  });

  it("S31: when every port of the list is busy, PORT_IN_USE names them all", async () => {
    const a = await start();
    const b = await start();
    const error = await startCallbackServer({ port: [a.port, b.port] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: NodeServerErrorCode.PORT_IN_USE });
    expect((error as Error).message).toContain(`Ports ${a.port}, ${b.port} on 127.0.0.1`);
  });

  it("S31: invalid ports are a configuration error", async () => {
    for (const port of [-1, 65536, 1.5, Number.NaN]) {
      await expect(startCallbackServer({ port })).rejects.toMatchObject({
        code: ErrorCode.CONFIG_INVALID,
      });
    }
    await expect(startCallbackServer({ port: [] })).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
    });
  });

  it("S8 S24: host 'both' binds 127.0.0.1 and ::1 on one port; the redirect URI names 127.0.0.1", async () => {
    const server = await start({ host: "both" });
    expect(server.addresses).toEqual(["127.0.0.1", "::1"]);
    expect(server.redirectUri).toBe(`http://127.0.0.1:${server.port}/callback`);
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    // Both literals are our own authority; localhost is not configured, so it is refused.
    const v6stray = await raw(
      server.port,
      `GET /favicon.ico HTTP/1.1\r\nHost: [::1]:${server.port}\r\n\r\n`,
      "::1",
    );
    expect(v6stray.status).toBe(404);
    expect((await get(server.port, VALID, {}, `localhost:${server.port}`)).status).toBe(400);
    const ok = await raw(
      server.port,
      `GET ${VALID} HTTP/1.1\r\nHost: [::1]:${server.port}\r\n\r\n`,
      "::1",
    );
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S8 S31: host 'both' with a fixed port busy on ::1 only is PORT_IN_USE", async () => {
    const v6 = await start({ host: "::1" });
    await expect(startCallbackServer({ host: "both", port: v6.port })).rejects.toMatchObject({
      code: NodeServerErrorCode.PORT_IN_USE,
    });
    // ...and nothing was left listening on 127.0.0.1 by the failed attempt (S23).
    expect(await canConnect("127.0.0.1", v6.port)).toBe(false);
  });

  it("S24: host 'localhost' names localhost, accepts Host localhost:PORT, and binds loopback only", async () => {
    const server = await start({ host: "localhost" });
    expect(server.redirectUri).toBe(`http://localhost:${server.port}/callback`);
    expect(server.addresses).toContain("127.0.0.1");
    const external = externalAddress();
    if (external) expect(await canConnect(external, server.port)).toBe(false);
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    expect((await get(server.port, VALID, {}, `evil.example:${server.port}`)).status).toBe(400);
    expect((await get(server.port, VALID, {}, `localhost:${server.port + 1}`)).status).toBe(400);
    expect((await get(server.port, VALID, {}, "localhost")).status).toBe(400);
    const ok = await get(server.port, VALID, {}, `localhost:${server.port}`);
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S23: binds only loopback: the port is not reachable on an external address", async (ctx) => {
    const external = externalAddress();
    if (!external) ctx.skip();
    const server = await start({ host: "both" });
    expect(await canConnect(external as string, server.port)).toBe(false);
    expect(await canConnect("127.0.0.1", server.port)).toBe(true);
  });
});

describe("callback server: request hardening", () => {
  it("S24: two Host headers, or none, get 400 and do not consume the flow", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const twice = await raw(
      server.port,
      `GET ${VALID} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nHost: evil.example\r\n\r\n`,
    );
    expect(twice.status).toBe(400);
    const none = await raw(server.port, `GET ${VALID} HTTP/1.0\r\n\r\n`);
    expect(none.status).toBe(400);
    expect((await get(server.port, VALID)).status).toBe(303);
    await pending;
  });

  it("S24 S25: absolute-form and //authority request targets are refused", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const absolute = await raw(
      server.port,
      `GET http://evil.example${VALID} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`,
    );
    expect(absolute.status).toBe(400);
    const authority = await get(server.port, `//evil.example${VALID}`);
    expect(authority.status).toBe(400);
    expect((await get(server.port, VALID)).status).toBe(303);
    await pending;
  });

  it("S26: oversized request lines and headers are refused; the login keeps waiting", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const longUrl = await get(server.port, `/callback?x=${"a".repeat(9000)}`);
    expect(longUrl.status).toBe(414);
    const bigHeader = await get(server.port, VALID, { "X-Junk": "b".repeat(20_000) });
    expect(bigHeader.status).toBe(431);
    expect((await get(server.port, VALID)).status).toBe(303);
    await pending;
  });

  it("S26: a flood of 150 junk requests of every kind, then the valid callback still succeeds", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const junk: Promise<unknown>[] = [];
    for (let i = 0; i < 25; i++) {
      junk.push(get(server.port, "/favicon.ico"));
      junk.push(get(server.port, `/callback?code=x&state=wrong${i}&iss=${ISS}`));
      junk.push(get(server.port, VALID, {}, `rebind${i}.example:${server.port}`));
      junk.push(get(server.port, VALID, { "Sec-Purpose": "prefetch;prerender" }));
      junk.push(
        raw(
          server.port,
          `POST ${VALID} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Length: 5\r\n\r\nhello`,
        ),
      );
      junk.push(raw(server.port, "NOT HTTP AT ALL\r\n\r\n").catch(() => undefined));
    }
    const answers = await Promise.all(junk);
    expect(answers.filter((a) => (a as { status?: number } | undefined)?.status === 303)).toEqual(
      [],
    );
    const ok = await get(server.port, VALID);
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("S26: past maxRequests the login fails clearly (CALLBACK_INVALID) and the port is closed", async () => {
    const server = await start({ maxRequests: 5 });
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    pending.catch(() => undefined);
    for (let i = 0; i < 5; i++)
      expect((await get(server.port, `/callback?code=x&state=wrong${i}&iss=${ISS}`)).status).toBe(
        400,
      );
    const sixth = await get(server.port, VALID).catch(() => undefined);
    expect(sixth?.status ?? 429).toBe(429);
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.CALLBACK_INVALID });
    expect(await canConnect("127.0.0.1", server.port)).toBe(false);
  });

  it("S23 S30: close() while waiting rejects the wait with ABORTED", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    await server.close();
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });
});

describe("callbackOptionsFromRedirectUri", () => {
  it("S7 S23: accepts only loopback http redirect URIs", async () => {
    const { callbackOptionsFromRedirectUri } = await import("../src/index.js");
    expect(callbackOptionsFromRedirectUri("http://127.0.0.1:0/callback")).toEqual({
      host: "127.0.0.1",
      port: 0,
      path: "/callback",
    });
    expect(callbackOptionsFromRedirectUri("http://[::1]:8400/cb")).toEqual({
      host: "::1",
      port: 8400,
      path: "/cb",
    });
    expect(callbackOptionsFromRedirectUri("http://localhost/oauth")).toEqual({
      host: "localhost",
      port: 0,
      path: "/oauth",
    });
    for (const bad of [
      "https://127.0.0.1/callback",
      "http://0.0.0.0:80/callback",
      "http://example.com/callback",
      "http://127.0.0.1/callback?x=1",
      "http://127.0.0.1/callback#",
      "http://user@127.0.0.1/callback",
      "http://127.0.0.1/done",
      "not a url",
    ]) {
      expect(() => callbackOptionsFromRedirectUri(bad), bad).toThrow(
        expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
      );
    }
  });
});
