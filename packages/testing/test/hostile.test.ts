import { connect } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type HostileServer, startHostileServer } from "../src/index.js";

let hostile: HostileServer;
beforeEach(async () => {
  hostile = await startHostileServer({ "/ok": { kind: "json", body: { a: 1 } } });
});
afterEach(async () => {
  await hostile.close();
});

describe("startHostileServer", () => {
  it("answers JSON routes and a JSON 404 elsewhere, keep-alive included", async () => {
    const ok = await fetch(`${hostile.url}/ok?x=1`);
    expect(await ok.json()).toEqual({ a: 1 });
    const missing = await fetch(`${hostile.url}/missing`, { method: "POST", body: "a=b" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "not_found" });
    expect(hostile.exchanges.map((exchange) => `${exchange.method} ${exchange.path}`)).toEqual([
      "GET /ok",
      "POST /missing",
    ]);
    expect(hostile.exchanges[0]?.ended).toBe(true);
  });

  it("a stall sends its headers and part of a body, and close() ends the connection", async () => {
    hostile.route("/stall", { kind: "stall" });
    const response = await fetch(`${hostile.url}/stall`);
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('{"access_token":"');
    const exchange = await hostile.exchange("/stall");
    const pending = reader.read().catch(() => "failed");
    await hostile.close();
    await exchange.closed;
    expect(await pending).toBe("failed");
    expect(exchange.ended).toBe(false);
  });

  it("a trickle writes one byte at a time until the client goes", async () => {
    hostile.route("/trickle", { kind: "trickle", intervalMs: 5 });
    const socket = connect(Number(new URL(hostile.url).port), "127.0.0.1");
    socket.write("GET /trickle HTTP/1.1\r\nHost: x\r\n\r\n");
    let received = "";
    await new Promise<void>((resolve) =>
      socket.on("data", (data: Buffer) => {
        received += data.toString();
        if (received.endsWith("{  ")) resolve();
      }),
    );
    const exchange = await hostile.exchange("/trickle");
    socket.destroy();
    await exchange.closed;
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(exchange.total).toBe(Number.POSITIVE_INFINITY);
  });

  it("a gzip bomb is a small body that inflates a thousandfold", async () => {
    hostile.route("/bomb", { kind: "gzip-bomb", bytes: 8 * 1024 * 1024 });
    const controller = new AbortController();
    const response = await fetch(`${hostile.url}/bomb`, { signal: controller.signal });
    expect(response.headers.get("content-encoding")).toBe("gzip");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let inflated = 0;
    while (inflated < 8 * 1024 * 1024) inflated += (await reader.read()).value?.length ?? 0;
    const exchange = await hostile.exchange("/bomb");
    expect(exchange.total).toBeLessThan(64 * 1024);
    controller.abort();
    await exchange.closed;
  });
});
