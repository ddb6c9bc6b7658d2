import type { CredentialKey, Credentials } from "@latchkey/core";
import { tempDir as sharedTempDir } from "@latchkey/test-utils";

/** A fresh temporary directory, removed when the test finishes (`@latchkey/test-utils`). */
export async function tempDir(): Promise<string> {
  return sharedTempDir("latchkey-store-");
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

/** One call a {@link FakeKeyring} saw. */
export interface KeyringCall {
  op: "get" | "set" | "delete";
  service: string;
  account: string;
}

/**
 * An in-memory keyring backend. With `maxBlobBytes` it refuses values longer than that in
 * UTF-16 bytes, as Windows Credential Manager does with 2560 (S39). `fail` makes every call
 * throw an error with that text (a keytar message).
 */
export class FakeKeyring {
  readonly name = "fake";
  readonly entries = new Map<string, string>();
  readonly calls: KeyringCall[] = [];
  readonly maxBlobBytes: number | undefined;
  fail: string | undefined;
  /** Runs before each call; a test may change the entries there (a concurrent writer). */
  beforeCall: ((call: KeyringCall) => void) | undefined;

  constructor(options: { maxBlobBytes?: number } = {}) {
    this.maxBlobBytes = options.maxBlobBytes;
  }

  #enter(call: KeyringCall): void {
    this.calls.push(call);
    this.beforeCall?.(call);
    if (this.fail !== undefined) throw new Error(this.fail);
  }

  async getPassword(service: string, account: string): Promise<string | null> {
    this.#enter({ op: "get", service, account });
    return this.entries.get(`${service}\n${account}`) ?? null;
  }

  async setPassword(service: string, account: string, password: string): Promise<void> {
    this.#enter({ op: "set", service, account });
    if (this.maxBlobBytes !== undefined && password.length * 2 > this.maxBlobBytes) {
      throw new Error(`The stub received bad data. (blob of ${password.length * 2} bytes)`);
    }
    this.entries.set(`${service}\n${account}`, password);
  }

  async deletePassword(service: string, account: string): Promise<boolean> {
    this.#enter({ op: "delete", service, account });
    return this.entries.delete(`${service}\n${account}`);
  }

  /** The accounts stored under a service. */
  accounts(service = "latchkey"): string[] {
    return [...this.entries.keys()]
      .filter((id) => id.startsWith(`${service}\n`))
      .map((id) => id.slice(service.length + 1));
  }
}
