// The ID-token signature check (S43) on Chromium's crypto.subtle: every algorithm family.
import { describe, expect, it } from "vitest";
import { clientTransport } from "../../src/http.js";
import { verifyIdTokenSignature } from "../../src/id-token.js";
import { type ClientOptions, ErrorCode } from "../../src/index.js";
import { createKey, signJwt, type TestAlg } from "../support/jws.js";

const CLAIMS = { iss: "https://idp.example", sub: "alice", aud: "cli", iat: 1, exp: 2 };

describe("S43: ID-token signatures in real Chromium", () => {
  it.each(["RS256", "PS384", "ES256", "ES512", "EdDSA"] as TestAlg[])(
    "S43: verifies %s and refuses it tampered",
    async (alg) => {
      const key = await createKey(alg, { kid: "k" });
      const client: ClientOptions = {
        clientId: "cli",
        fetch: async () => Response.json({ keys: [key.jwk] }),
      };
      const server = {
        issuer: "https://idp.example",
        jwks_uri: "https://idp.example/jwks",
        id_token_signing_alg_values_supported: [alg],
      };
      const token = await signJwt(key, CLAIMS);
      await verifyIdTokenSignature(server, token, client, clientTransport(client));
      const [head, , signature] = token.split(".");
      const forged = `${head}.${btoa(JSON.stringify({ ...CLAIMS, sub: "eve" })).replace(/=+$/, "")}.${signature}`;
      await expect(
        verifyIdTokenSignature(server, forged, client, clientTransport(client)),
      ).rejects.toMatchObject({ code: ErrorCode.INVALID_ID_TOKEN });
    },
  );
});
