import { connect } from "node:net";
import type { AwaitingCallbackState, CodeReceivedState } from "@latchkey/core";
import { startCallbackServer } from "@latchkey/node-server";
import fc from "fast-check";
import { describe, expect, it, onTestFinished } from "vitest";

// Fuzz of the live loopback callback server over raw sockets (S23–S29): random methods, paths,
// headers, query strings, oversized and non-HTTP requests. It never crashes, never accepts a
// callback without the right state, and the valid callback still succeeds afterwards.

const STATE = "k7Qp2Xr9-Lm4_Tn8Vb1Cz5Wd0Ys3Fh6Jg2Ua7Ei9Ow";
const ISSUER = "https://as.example";

interface RawAnswer {
  status: number | undefined;
  head: string;
}

/** Sends bytes and half-closes, reads until the server closes (`ms`: a guard); parses the status line. */
function send(port: number, payload: string | Buffer, ms = 800): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let data = "";
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({
        status: match ? Number(match[1]) : undefined,
        head: data.split("\r\n\r\n")[0] ?? "",
      });
    };
    // A guard only: the request is half-closed after the payload, so the server answers or
    // closes at once, whatever the bytes were; the close (or error) event ends the wait.
    const timer = setTimeout(done, ms);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    socket.on("error", done);
    socket.on("close", done);
    socket.on("connect", () => socket.end(payload));
  });
}

function waiting(redirectUri: string): AwaitingCallbackState {
  return {
    status: "awaiting-callback",
    expectedIssuer: ISSUER,
    issRequired: true,
    clientId: "latchkey",
    redirectUri,
    state: STATE,
    codeVerifier: "v".repeat(64),
    startedAt: 0,
  };
}

const nearMissState = fc.constantFrom(
  "",
  STATE.slice(1),
  `${STATE}x`,
  STATE.toLowerCase(),
  `${STATE}%00`,
  encodeURIComponent(` ${STATE}`),
  `${STATE.slice(0, 20)}`,
);
const queryPart = fc.oneof(
  fc.constantFrom(
    "code=abc",
    `iss=${encodeURIComponent(ISSUER)}`,
    "error=access_denied",
    "iss=https%3A%2F%2Fevil",
  ),
  nearMissState.map((s) => `state=${s}`),
  // The right state, but duplicated: still never acceptable (S16).
  fc.constant(`state=${STATE}&state=${STATE}`),
  fc.constant(`state=${STATE}&code=a&code=b`),
  fc.string({ maxLength: 30, unit: "binary-ascii" }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 30, unit: "binary-ascii" }),
);
const method = fc.oneof(
  fc.constantFrom("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"),
  fc.stringMatching(/^[A-Z]{1,10}$/),
);
const path = fc.oneof(
  fc.constantFrom(
    "/callback",
    "/callback/",
    "/CALLBACK",
    "/done",
    "/favicon.ico",
    "//callback",
    "/callback/../callback",
    "*",
  ),
  fc.constantFrom("http://evil.example/callback", "/%63allback"),
  fc.string({ maxLength: 20, unit: "binary-ascii" }).map((s) => `/${s}`),
);

function hostHeaders(port: number): fc.Arbitrary<string[]> {
  return fc.constantFrom(
    [`Host: 127.0.0.1:${port}`],
    [`Host: localhost:${port}`],
    [`Host: evil.example`],
    [`Host: 127.0.0.1:${port}`, `Host: 127.0.0.1:${port}`],
    [],
    [`Host: 127.0.0.1:${port + 1}`],
    [`Host: [::1]:${port}`],
  );
}
const extraHeader = fc.oneof(
  fc.constantFrom(
    "Sec-Purpose: prefetch",
    "Purpose: prefetch",
    "Transfer-Encoding: chunked",
    "Content-Length: 5",
    "Content-Length: -1",
    "Expect: 100-continue",
    "Connection: keep-alive",
    "Cookie: a=b",
  ),
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z-]{1,20}$/),
      fc.string({ maxLength: 40, unit: "binary-ascii" }),
    )
    .map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, "")}`),
);

describe("the loopback callback server under fuzz (S23–S29)", () => {
  it("S24 S25 S26: random requests never crash it, never end the login; the valid callback still succeeds", async () => {
    const server = await startCallbackServer({ timeoutMs: 60_000, maxRequests: 100_000 });
    onTestFinished(() => server.close({ graceMs: 0 }));
    const { port } = server;
    let settled: "pending" | "resolved" | "rejected" = "pending";
    let received: CodeReceivedState | undefined;
    const wait = server.waitForCallback(waiting(server.redirectUri)).then(
      (value) => {
        settled = "resolved";
        received = value;
      },
      () => {
        settled = "rejected";
      },
    );
    const statuses = new Map<string, number>();

    const request = fc.record({
      method,
      path,
      query: fc.array(queryPart, { maxLength: 5 }),
      hosts: hostHeaders(port),
      extra: fc.array(extraHeader, { maxLength: 4 }),
      body: fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
      httpVersion: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 extra"),
    });
    const oversized = fc.constantFrom(
      // Request line over 8 KiB.
      `GET /callback?state=${"a".repeat(9000)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      // Headers over 16 KiB.
      `GET /callback HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${"b".repeat(20_000)}\r\nConnection: close\r\n\r\n`,
      // 100 headers (over the header count limit).
      `GET /callback HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${Array.from({ length: 100 }, (_, i) => `X-${i}: v`).join("\r\n")}\r\nConnection: close\r\n\r\n`,
      // Not HTTP at all.
      "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003 TLS hello",
      "\r\n\r\n\r\n",
      "GET\r\n\r\n",
    );

    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 9, arbitrary: request }, { weight: 1, arbitrary: oversized }),
        async (r) => {
          const payload =
            typeof r === "string"
              ? r
              : `${r.method} ${r.path}${r.query.length ? `?${r.query.join("&")}` : ""} ${r.httpVersion}\r\n${[
                  ...r.hosts,
                  ...r.extra,
                  "Connection: close",
                ].join("\r\n")}\r\n\r\n${r.body ?? ""}`;
          const answer = await send(port, payload);
          if (answer.status !== undefined) {
            const key = String(answer.status);
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
            // Never an acceptance (303 to /done), never a server failure.
            expect(answer.status, payload.slice(0, 200)).not.toBe(303);
            expect(answer.status === 500, payload.slice(0, 200)).toBe(false);
            if (answer.status === 200) expect(payload).toMatch(/\/done/);
          }
          // Give a wrongly settled wait a tick to show itself.
          await new Promise((resolve) => setImmediate(resolve));
          expect(settled, payload.slice(0, 200)).toBe("pending");
        },
      ),
      { numRuns: 200, seed: 0x5eed1, endOnFailure: true },
    );

    expect(settled).toBe("pending");
    expect(statuses.size).toBeGreaterThan(3); // the fuzz reached several answers (400, 404, 405, ...)

    // The valid callback still succeeds, once.
    const valid = `GET /callback?code=the-code&state=${STATE}&iss=${encodeURIComponent(ISSUER)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    const accepted = await send(port, valid);
    expect(accepted.status).toBe(303);
    expect(accepted.head).toMatch(/\r\nLocation: \/done\r\n/i);
    await wait;
    expect(settled).toBe("resolved");
    expect(new URLSearchParams(received?.callbackQuery).get("code")).toBe("the-code");
    const again = await send(port, valid);
    expect(again.status).toBe(409);
    const done = await send(
      port,
      `GET /done HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    );
    expect(done.status).toBe(200);
  }, 60_000);
});
