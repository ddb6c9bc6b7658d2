import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTransport } from "../src/transport.js";
import { startProxy } from "./helpers.js";

// The transport every request of the CLI goes through (src/transport.ts): on Node 20 the
// global fetch behind the one-time WebAssembly setting, else the global fetch itself; with a proxy
// environment, undici's agent. Compared here with the global fetch on a real loopback server.

let server: Server;
let origin: string;

function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.setEncoding("utf8").on("data", (chunk: string) => {
      text += chunk;
    });
    req.on("end", () => resolve(text));
  });
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    if (req.url === "/hang") return; // never answers: only an abort ends the request
    const status = req.url === "/missing" ? 404 : 200;
    res.writeHead(status, { "content-type": "application/json", "x-seen": req.method ?? "" });
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        body,
        type: req.headers["content-type"] ?? null,
        accept: req.headers.accept ?? null,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const major = Number(process.versions.node.split(".")[0]);

async function snapshot(response: Response) {
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    seen: response.headers.get("x-seen"),
    body: await response.json(),
  };
}

describe("createTransport", () => {
  it("wraps the global fetch on Node 20 only, when no proxy, CA or skip-verify is set", async () => {
    const transport = await createTransport({ env: {} });
    expect(transport === undefined).toBe(major !== 20);
  });

  it("answers like the global fetch: GET, a form POST, an error status", async () => {
    const transport = (await createTransport({ env: {} })) ?? fetch;
    const requests: [string, RequestInit][] = [
      [`${origin}/metadata`, { headers: { accept: "application/json" } }],
      [
        `${origin}/token`,
        {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "r" }),
        },
      ],
      [`${origin}/missing`, {}],
    ];
    for (const [url, init] of requests) {
      const ours = await snapshot(await transport(url, init));
      const theirs = await snapshot(await fetch(url, init));
      expect(ours).toEqual(theirs);
    }
    expect((await snapshot(await transport(`${origin}/missing`))).status).toBe(404);
  });

  it("honours the AbortSignal (the CLI's timeouts)", async () => {
    const transport = (await createTransport({ env: {} })) ?? fetch;
    const controller = new AbortController();
    const pending = transport(`${origin}/hang`, { signal: controller.signal });
    controller.abort(new DOMException("timed out", "TimeoutError"));
    await expect(pending).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("goes through HTTP_PROXY when it is set, on every runtime", async () => {
    const proxy = await startProxy();
    try {
      const transport = await createTransport({ env: { HTTP_PROXY: proxy.url } });
      expect(transport).toBeTypeOf("function");
      const response = await (transport as NonNullable<typeof transport>)(`${origin}/via-proxy`);
      expect((await snapshot(response)).body.url).toBe("/via-proxy");
      // undici tunnels through CONNECT, also for http targets.
      expect(proxy.seen).toContain(`CONNECT ${new URL(origin).host}`);
    } finally {
      await proxy.close();
    }
  });
});
