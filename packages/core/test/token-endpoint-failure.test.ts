// Issue 12, point 1: the one rule for the token endpoint's error answers, as a table of
// status × body × content type, through the transport the token requests use.
import { describe, expect, it } from "vitest";
import { classifyTokenEndpointFailure, guardedFetch } from "../src/http.js";
import { ProtocolError, TransportError } from "../src/index.js";

describe("classifyTokenEndpointFailure: the one rule, status × body × content type", () => {
  const CONTENT_TYPES = [undefined, "application/json", "text/html; charset=utf-8", "text/plain"];
  // [raw body, code of a 400 or 401]
  const REFUSALS: [string, string][] = [
    ["", "INVALID_GRANT"],
    ["<html><body>Bad Request</body></html>", "INVALID_GRANT"],
    ["Bad Request", "INVALID_GRANT"],
    ["{}", "INVALID_GRANT"],
    ["[1]", "INVALID_GRANT"],
    ["null", "INVALID_GRANT"],
    ['{"error":42}', "INVALID_GRANT"],
    ['{"error":"invalid_grant"}', "INVALID_GRANT"],
    ['{"error":"invalid_request"}', "INVALID_GRANT"],
    ['{"error":"unsupported_grant_type"}', "INVALID_GRANT"],
    ['{"error":"token_expired","error_description":"x"}', "INVALID_GRANT"],
    ['{"error":"invalid_client"}', "INVALID_CLIENT"],
    ['{"error":"unauthorized_client"}', "INVALID_CLIENT"],
    ['{"error":"invalid_scope"}', "TOKEN_REQUEST_FAILED"],
    ['{"error":"invalid_target"}', "TOKEN_REQUEST_FAILED"],
  ];
  const TRANSIENT_BODIES = ["", "<html>502 Bad Gateway</html>", '{"error":"invalid_grant"}', "{}"];

  /** What the token endpoint's transport throws for this answer to a POST. */
  async function answer(status: number, body: string, headers: Record<string, string>) {
    const post = guardedFetch(
      { fetch: async () => new Response(body || null, { status, headers }) },
      "refresh request",
    );
    return post("https://as.example/token", { method: "POST", body: "grant_type=x" }).catch(
      (e: unknown) => e,
    );
  }
  const typed = (type: string | undefined): Record<string, string> =>
    type ? { "content-type": type } : {};

  it("a 400 or 401 is a refusal (ProtocolError), whatever the body and content type", async () => {
    for (const type of CONTENT_TYPES) {
      for (const [body, code] of REFUSALS) {
        for (const status of [400, 401]) {
          const error = await answer(status, body, typed(type));
          expect(error, `${status} ${type} ${body}`).toBeInstanceOf(ProtocolError);
          expect(error, `${status} ${type} ${body}`).toMatchObject({ code });
        }
      }
    }
  });

  it("a WWW-Authenticate challenge without an OAuth body refuses the client", async () => {
    const challenge = { "www-authenticate": 'Basic realm="token"' };
    for (const body of ["", "Unauthorized"]) {
      expect(await answer(401, body, challenge)).toMatchObject({ code: "INVALID_CLIENT" });
    }
    const json = { ...challenge, "content-type": "application/json" };
    expect(await answer(401, '{"error":"invalid_grant"}', json)).toMatchObject({
      code: "INVALID_GRANT",
    });
  });

  it("every other status stays transient (TransportError), whatever the body says", async () => {
    for (const status of [500, 502, 503, 504, 429, 407, 408, 403, 404]) {
      for (const type of CONTENT_TYPES) {
        for (const body of TRANSIENT_BODIES) {
          const error = await answer(status, body, typed(type));
          expect(error, `${status} ${type} ${body}`).toBeInstanceOf(TransportError);
          expect(error).toMatchObject({ code: "SERVER_ERROR" });
        }
      }
    }
  });

  it("the rule applies to POSTs of the token family only: a GET keeps the generic rule", async () => {
    const get = guardedFetch(
      { fetch: async () => Response.json({ error: "x" }, { status: 400 }) },
      "refresh request",
    );
    expect((await get("https://as.example/jwks")).status).toBe(400);
    const plain = guardedFetch({ fetch: async () => new Response(null, { status: 400 }) });
    const error = await plain("https://as.example/token", { method: "POST", body: "x" }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "SERVER_ERROR" });
  });

  it("keeps the OAuth details (the device poller reads them) and prints nothing unsafe", () => {
    const error = classifyTokenEndpointFailure(
      400,
      new Headers(),
      { error: "authorization_pending", error_description: "wait\u001b[31m" },
      "device token request",
    ) as ProtocolError;
    expect(error.oauth).toEqual({
      error: "authorization_pending",
      status: 400,
      errorDescription: "wait\u001b[31m",
    });
    expect(error.message).toContain("device token request");
    expect(error.message).not.toContain("\u001b");
  });
});
