import { randomBytes } from "node:crypto";
import type { TokenStore } from "@latchkey/core";
import { describe, expect, it } from "vitest";
import {
  FileTokenStore,
  KEYRING_BACKENDS,
  KeyringTokenStore,
  MemoryTokenStore,
  openKeyringBackend,
} from "../src/index.js";
import {
  FakeKeyring,
  fullCredentials,
  keyA,
  minimalCredentials,
  otherKeys,
  rejectionOf,
  tempDir,
} from "./helpers.js";
import { realKeyring } from "./keyring-session.js";

const factories: Array<[string, () => Promise<TokenStore>]> = [
  ["MemoryTokenStore", async () => new MemoryTokenStore()],
  ["FileTokenStore", async () => new FileTokenStore({ directory: await tempDir() })],
  [
    "KeyringTokenStore (fake backend)",
    async () => new KeyringTokenStore({ backend: new FakeKeyring() }),
  ],
  [
    "KeyringTokenStore (fake backend, 2560-byte blobs, chunked)",
    async () =>
      new KeyringTokenStore({
        backend: new FakeKeyring({ maxBlobBytes: 2560 }),
        maxEntryLength: 256,
      }),
  ],
];

if (realKeyring) {
  // Inside the private gnome-keyring session of test/run-with-keyring.mjs; a service per test.
  for (const backend of KEYRING_BACKENDS) {
    factories.push([
      `KeyringTokenStore (real keyring, ${backend})`,
      async () =>
        new KeyringTokenStore({
          backend: await openKeyringBackend({ backend }),
          service: `latchkey-contract-${randomBytes(4).toString("hex")}`,
        }),
    ]);
  }
}

describe.each(factories)("%s (the TokenStore contract)", (_name, makeStore) => {
  it("returns undefined when nothing is stored", async () => {
    const store = await makeStore();
    expect(await store.get(keyA)).toBeUndefined();
  });

  it("round-trips credentials with every field", async () => {
    const store = await makeStore();
    await store.set(keyA, fullCredentials());
    expect(await store.get(keyA)).toStrictEqual(fullCredentials());
  });

  it("round-trips credentials without the optional fields (no undefined keys appear)", async () => {
    const store = await makeStore();
    await store.set(keyA, minimalCredentials());
    const back = await store.get(keyA);
    expect(back).toStrictEqual(minimalCredentials());
    expect(Object.keys(back ?? {}).sort()).toEqual([
      "accessToken",
      "clientId",
      "issuer",
      "obtainedAt",
      "tokenType",
    ]);
  });

  it("returns a copy: changing what was stored or returned changes nothing stored", async () => {
    const store = await makeStore();
    const credentials = fullCredentials();
    await store.set(keyA, credentials);
    credentials.accessToken = "mutated-before-get";
    const first = await store.get(keyA);
    if (first === undefined) throw new Error("missing");
    first.accessToken = "mutated-after-get";
    expect((await store.get(keyA))?.accessToken).toBe("at-SENTINEL-123");
  });

  it("S37: set replaces what was stored (a rotated refresh token is kept)", async () => {
    const store = await makeStore();
    await store.set(keyA, fullCredentials());
    await store.set(keyA, fullCredentials({ accessToken: "at-2", refreshToken: "rt-rotated" }));
    const back = await store.get(keyA);
    expect(back?.accessToken).toBe("at-2");
    expect(back?.refreshToken).toBe("rt-rotated");
  });

  it("S18: issuers, clients and profiles are independent", async () => {
    const store = await makeStore();
    await store.set(keyA, minimalCredentials("at-A"));
    for (const [index, key] of otherKeys.entries()) {
      await store.set(key, minimalCredentials(`at-${index}`));
    }
    expect((await store.get(keyA))?.accessToken).toBe("at-A");
    for (const [index, key] of otherKeys.entries()) {
      expect((await store.get(key))?.accessToken).toBe(`at-${index}`);
    }
    await store.delete(keyA);
    expect(await store.get(keyA)).toBeUndefined();
    for (const [index, key] of otherKeys.entries()) {
      expect((await store.get(key))?.accessToken).toBe(`at-${index}`);
    }
  });

  it("keys whose parts contain the separator do not collide", async () => {
    const store = await makeStore();
    const left = {
      issuer: "https://a.example|b",
      clientId: "c",
      profile: "default",
    };
    const right = {
      issuer: "https://a.example",
      clientId: "b|c",
      profile: "default",
    };
    await store.set(left, minimalCredentials("left"));
    await store.set(right, minimalCredentials("right"));
    expect((await store.get(left))?.accessToken).toBe("left");
    expect((await store.get(right))?.accessToken).toBe("right");
  });

  it("delete is idempotent", async () => {
    const store = await makeStore();
    await store.delete(keyA);
    await store.set(keyA, minimalCredentials());
    await store.delete(keyA);
    await store.delete(keyA);
    expect(await store.get(keyA)).toBeUndefined();
  });

  it("refuses to store credentials it could not read back, and keeps what was stored", async () => {
    const store = await makeStore();
    await store.set(keyA, minimalCredentials("kept"));
    const error = await rejectionOf(store.set(keyA, minimalCredentials("")));
    expect(error).toMatchObject({ name: "StoreError", code: "STORE_CORRUPT" });
    expect((await store.get(keyA))?.accessToken).toBe("kept");
  });
});

describe("MemoryTokenStore", () => {
  it("has kind memory, and two instances share nothing", async () => {
    const one = new MemoryTokenStore();
    const two = new MemoryTokenStore();
    expect(one.kind).toBe("memory");
    await one.set(keyA, minimalCredentials());
    expect(await two.get(keyA)).toBeUndefined();
  });
});
