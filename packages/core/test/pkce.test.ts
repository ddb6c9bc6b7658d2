import { describe, expect, it } from "vitest";
import {
  calculateCodeChallenge,
  generateCodeVerifier,
  generateNonce,
  generateState,
} from "../src/pkce.js";

describe("PKCE and random values", () => {
  it("S10: computes the reference's S256 test vector", async () => {
    expect(await calculateCodeChallenge("test_code_verifier")).toBe(
      "Qq1fGD0HhxwbmeMrqaebgn1qhvKeguQPXqLdpmixaM4",
    );
  });

  it("S11: the verifier is 86 unreserved characters carrying 512 random bits", () => {
    const verifier = generateCodeVerifier();
    expect(verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    expect(verifier).toHaveLength(86);
  });

  it("S14: verifier, state and nonce are never repeated", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      seen.add(generateCodeVerifier());
      seen.add(generateState());
      seen.add(generateNonce());
    }
    expect(seen.size).toBe(600);
    expect(generateState()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("calculateCodeChallenge", () => {
  it("S10: refuses an empty verifier instead of hashing it", async () => {
    await expect(calculateCodeChallenge("")).rejects.toBeInstanceOf(TypeError);
  });
});
