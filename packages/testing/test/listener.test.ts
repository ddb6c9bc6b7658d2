import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createConnection } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { followLoginRedirects, startFakeAuthorizationServer } from "../src/index.js";

function canConnect(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A tiny loopback app: its /callback exchanges the code at the fake server and answers with the result. */
async function startCallbackApp(
  tokenEndpoint: string,
  verifier: string,
): Promise<{ port: number; server: Server }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/callback") {
      response.writeHead(404).end();
      return;
    }
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
    fetch(tokenEndpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: url.searchParams.get("code") ?? "",
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: "latchkey",
      }),
    })
      .then(async (token) => {
        const body = (await token.json()) as { access_token?: string };
        response
          .writeHead(200, { "content-type": "text/plain" })
          .end(
            `state=${url.searchParams.get("state")} iss=${url.searchParams.get("iss")} token=${body.access_token !== undefined}`,
          );
      })
      .catch(() => response.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { port: (server.address() as AddressInfo).port, server };
}

describe("startFakeAuthorizationServer", () => {
  it("S31: listens on 127.0.0.1 port 0; the issuer carries the real port; close() frees it", async () => {
    const fake = await startFakeAuthorizationServer({ issuerPath: "/tenant-a" });
    const port = Number(new URL(fake.url).port);
    expect(port).toBeGreaterThan(0);
    expect(fake.url).toBe(`http://127.0.0.1:${port}`);
    expect(fake.issuer).toBe(`http://127.0.0.1:${port}/tenant-a`);

    const agentResponse = await fetch(fake.endpoints.oauthMetadata, {
      headers: { connection: "keep-alive" },
    });
    expect((await agentResponse.json()).issuer).toBe(fake.issuer);
    expect(fake.count("discovery")).toBe(1);
    expect(fake.requests[0]?.headers.host).toBe(`127.0.0.1:${port}`);

    await fake.close();
    expect(await canConnect(port)).toBe(false);
    await fake.close(); // idempotent
  });

  it("carries POST bodies and headers through to the handler", async () => {
    await using fake = await startFakeAuthorizationServer({
      clients: [{ clientId: "ci", clientSecret: "pw" }],
    });
    const response = await fetch(fake.endpoints.token, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from("ci:wrong").toString("base64")}`,
      },
      body: "grant_type=refresh_token&refresh_token=abc",
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toMatchObject({ error: "invalid_client" });
    expect(fake.requests[0]).toMatchObject({
      grantType: "refresh_token",
      params: { refresh_token: "abc" },
    });
  });

  it("answers a path starting with // without changing host", async () => {
    await using fake = await startFakeAuthorizationServer();
    const { port } = new URL(fake.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: "127.0.0.1", port: Number(port) });
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk.toString();
      });
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
      socket.write(
        `GET //evil.example/jwks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      );
    });
    expect(raw.startsWith("HTTP/1.1 404")).toBe(true);
    expect(fake.requests[0]?.path).toBe("//evil.example/jwks");
  });

  it("S8: binds [::1] when asked, with an issuer on [::1]", async (context) => {
    let fake: Awaited<ReturnType<typeof startFakeAuthorizationServer>>;
    try {
      fake = await startFakeAuthorizationServer({ host: "::1" });
    } catch {
      context.skip();
      return;
    }
    await using _ = fake;
    expect(fake.issuer).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const metadata = await (await fetch(fake.endpoints.openidConfiguration)).json();
    expect(metadata.issuer).toBe(fake.issuer);
  });

  it("close() also ends idle keep-alive connections", async () => {
    const fake = await startFakeAuthorizationServer();
    const { port } = new URL(fake.url);
    const socket = createConnection({ host: "127.0.0.1", port: Number(port) });
    await new Promise((resolve) => socket.once("connect", resolve));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.write(`GET /jwks HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
    await new Promise((resolve) => socket.once("data", resolve));
    await fake.close();
    await closed;
  });
});

describe("followLoginRedirects", () => {
  it("S17: completes a login round trip (S7) to a loopback callback server over real sockets", async () => {
    await using fake = await startFakeAuthorizationServer();
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const app = await startCallbackApp(fake.endpoints.token, verifier);
    const authorizationUrl = new URL(fake.endpoints.authorization);
    authorizationUrl.search = new URLSearchParams({
      response_type: "code",
      client_id: "latchkey",
      redirect_uri: `http://127.0.0.1:${app.port}/callback`,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "round-trip",
    }).toString();

    const result = await followLoginRedirects(authorizationUrl.href);
    expect(result.status).toBe(200);
    expect(result.hops).toBe(1);
    expect(result.finalUrl.startsWith(`http://127.0.0.1:${app.port}/callback?code=`)).toBe(true);
    expect(result.body).toBe(`state=round-trip iss=${fake.issuer} token=true`);
    expect(fake.count("authorize", { status: 302 })).toBe(1);
    expect(fake.count("token", { grantType: "authorization_code", status: 200 })).toBe(1);
  });

  it("works in memory with an injected fetch and stops at a non-redirect", async () => {
    await using fake = await startFakeAuthorizationServer();
    const result = await followLoginRedirects(`${fake.endpoints.authorization}?client_id=nobody`, {
      fetch: (input, init) => fake.fetch(new Request(input, init)),
    });
    expect(result.status).toBe(400);
    expect(result.hops).toBe(0);
    expect(result.body).toContain("Unknown client_id");
  });

  it("resolves relative Location headers and gives up after maxRedirects", async () => {
    const loop = createServer((request, response) => {
      const n = Number(new URL(request.url ?? "/", "http://x").searchParams.get("n") ?? "0");
      if (n < 3) {
        response.writeHead(302, { location: `?n=${n + 1}` }).end();
      } else {
        response.writeHead(200).end("done");
      }
    });
    await new Promise<void>((resolve) => loop.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => loop.close(() => resolve())));
    const base = `http://127.0.0.1:${(loop.address() as AddressInfo).port}/start`;
    const result = await followLoginRedirects(base);
    expect(result).toEqual({ finalUrl: `${base}?n=3`, status: 200, body: "done", hops: 3 });
    await expect(followLoginRedirects(base, { maxRedirects: 2 })).rejects.toThrow(
      /more than 2 redirects/,
    );
  });
});
