import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CredentialKey, Credentials } from "@latchkey/core";
import { onTestFinished } from "vitest";

/** A fresh temporary directory, removed when the test finishes. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "latchkey-store-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const keyA: CredentialKey = {
  issuer: "https://idp.example.com",
  clientId: "cli",
  profile: "default",
};

/** Keys that differ from keyA in exactly one part (S18). */
export const otherKeys: readonly CredentialKey[] = [
  { ...keyA, issuer: "https://other-idp.example.org/tenant" },
  { ...keyA, clientId: "another-client" },
  { ...keyA, profile: "work" },
];

export function fullCredentials(overrides: Partial<Credentials> = {}): Credentials {
  return {
    accessToken: "at-SENTINEL-123",
    tokenType: "Bearer",
    expiresAt: 1_900_000_000_000,
    refreshToken: "rt-SENTINEL-456",
    idToken: "header.payload.signature",
    scope: "openid profile",
    issuer: keyA.issuer,
    clientId: keyA.clientId,
    obtainedAt: 1_800_000_000_000,
    ...overrides,
  };
}

export function minimalCredentials(accessToken = "at-minimal"): Credentials {
  return {
    accessToken,
    tokenType: "Bearer",
    issuer: keyA.issuer,
    clientId: keyA.clientId,
    obtainedAt: 1_800_000_000_000,
  };
}

/** Resolves to the rejection of a promise (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
