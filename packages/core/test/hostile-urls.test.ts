// Endpoint URLs a hostile server or a careless configuration can produce: user-info in a URL, an
// issuer that only normalises to the configured one, and names that look like loopback.
import { describe, expect, it } from "vitest";
import { isLoopbackUrl } from "../src/config.js";
import { ErrorCode, type FetchLike, type LatchkeyError, resolveServer } from "../src/index.js";

/** A transport that answers every request with this discovery document and records the URLs. */
function serving(document: Record<string, unknown>): {
  fetch: FetchLike;
  urls: string[];
} {
  const urls: string[] = [];
  return {
    urls,
    fetch: async (input) => {
      urls.push(input instanceof Request ? input.url : String(input));
      return Response.json(document);
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<LatchkeyError> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: LatchkeyError) => error,
  );
}

describe("credentials in endpoint URLs", () => {
  it.each([
    ["issuer", { issuer: "https://alice:hunter2@as.example" }],
    ["issuer (user only)", { issuer: "https://hunter2@as.example" }],
    ["token endpoint", { tokenEndpoint: "https://alice:hunter2@as.example/token" }],
    [
      "authorization endpoint",
      {
        tokenEndpoint: "https://as.example/token",
        authorizationEndpoint: "http://alice:hunter2@127.0.0.1/authorize",
      },
    ],
  ])(
    "a %s with user-info is refused before any request, without repeating it",
    async (_, endpoints) => {
      const t = serving({
        issuer: "https://as.example",
        token_endpoint: "https://as.example/token",
      });
      const error = await failure(
        resolveServer({ clientId: "cli", fetch: t.fetch, ...endpoints }, { cache: false }),
      );
      expect(error).toMatchObject({ code: ErrorCode.CONFIG_INVALID });
      expect(error.message).toMatch(/must not contain credentials/);
      expect(error.message).not.toContain("hunter2");
      expect(t.urls).toEqual([]);
    },
  );

  it("a discovered endpoint with user-info is refused too", async () => {
    const t = serving({
      issuer: "https://as.example",
      token_endpoint: "https://alice:hunter2@as.example/token",
    });
    const error = await failure(
      resolveServer(
        { issuer: "https://as.example", clientId: "cli", fetch: t.fetch },
        { cache: false },
      ),
    );
    expect(error).toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    expect(error.message).not.toContain("hunter2");
  });
});

describe("RFC 8414 §3.3: the discovered issuer is the configured string", () => {
  it.each([
    "https://as.example/tenant/x/..",
    "https://as.example/tenant/./",
    "https://AS.example/tenant",
    "https://as.example:443/tenant",
    "https://as.example/tenant/",
    "https://as.example/%74enant",
  ])(
    "%j for the issuer https://as.example/tenant is DISCOVERY_ISSUER_MISMATCH",
    async (claimed) => {
      const t = serving({ issuer: claimed, token_endpoint: "https://as.example/tenant/token" });
      const error = await failure(
        resolveServer(
          { issuer: "https://as.example/tenant", clientId: "cli", fetch: t.fetch },
          { cache: false },
        ),
      );
      expect(error).toMatchObject({ code: ErrorCode.DISCOVERY_ISSUER_MISMATCH });
    },
  );

  it.each([
    ["https://as.example", "https://as.example"],
    ["https://as.example/", "https://as.example"],
    ["https://as.example", "https://as.example/"],
    ["https://as.example/tenant", "https://as.example/tenant"],
    ["https://as.example/tenant/", "https://as.example/tenant/"],
  ])("the issuer %j accepts the document's %j", async (configured, claimed) => {
    const t = serving({ issuer: claimed, token_endpoint: "https://as.example/token" });
    const server = await resolveServer(
      { issuer: configured, clientId: "cli", fetch: t.fetch },
      { cache: false },
    );
    expect(server.issuer).toBe(claimed);
  });
});

describe("what counts as loopback for plain HTTP", () => {
  it.each([
    ["http://127.0.0.1:8080/", true],
    ["http://127.1.2.3/", true],
    ["http://127.1/", true],
    ["http://[::1]:9000/", true],
    ["http://localhost:3000/", true],
    ["http://LOCALHOST/", true],
    ["http://evil.localhost/", false],
    ["http://localhost.evil.example/", false],
    ["http://127.0.0.1.nip.io/", false],
    ["http://128.0.0.1/", false],
    ["http://[::ffff:127.0.0.1]/", false],
    ["http://0.0.0.0/", false],
  ])("%s → %s", (url, loopback) => {
    expect(isLoopbackUrl(new URL(url))).toBe(loopback);
  });

  it("a *.localhost token endpoint over plain HTTP is INSECURE_ENDPOINT", async () => {
    const error = await failure(
      resolveServer({ clientId: "cli", tokenEndpoint: "http://as.localhost:8080/token" }),
    );
    expect(error).toMatchObject({ code: ErrorCode.INSECURE_ENDPOINT });
  });
});
