import { credentialKeyId, StoreError } from "@latchkey/core";
import { describe, expect, it } from "vitest";
import { keyringError, loadBackend } from "../src/backend.js";
import {
  defaultKeyringEntryLength,
  KeyringTokenStore,
  KeyringUnavailableError,
  openKeyringTokenStore,
} from "../src/index.js";
import { FakeKeyring, fullCredentials, keyA, minimalCredentials, rejectionOf } from "./helpers.js";

const account = credentialKeyId(keyA);

/** Credentials whose record is about `size` characters long (a big ID token). */
function bigCredentials(size: number, seed = "x") {
  // A long ID token in compact JWS form, as the record reader requires (issue 13).
  return fullCredentials({ idToken: `h.${seed.repeat(size).slice(0, size - 4)}.s` });
}

describe("KeyringTokenStore with a fake backend", () => {
  it("S39: one entry per issuer + client + profile, holding core's versioned record", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend });
    await store.set(keyA, fullCredentials());
    expect(backend.accounts()).toEqual([account]);
    const text = backend.entries.get(`latchkey\n${account}`) ?? "";
    expect(JSON.parse(text)).toMatchObject({ v: 1, accessToken: "at-SENTINEL-123" });
    expect(await store.get(keyA)).toStrictEqual(fullCredentials());
  });

  it("S39: a 10 KB record round-trips through a backend that refuses blobs over 2560 bytes", async () => {
    const backend = new FakeKeyring({ maxBlobBytes: 2560 });
    const store = new KeyringTokenStore({ backend, maxEntryLength: 1280 });
    const credentials = bigCredentials(10 * 1024);
    await store.set(keyA, credentials);
    expect(backend.accounts().length).toBeGreaterThanOrEqual(9); // header + 8+ chunks
    for (const value of backend.entries.values())
      expect(value.length * 2).toBeLessThanOrEqual(2560);
    expect(await store.get(keyA)).toStrictEqual(credentials);
    // A fresh store (another process) reads it too.
    expect(await new KeyringTokenStore({ backend, maxEntryLength: 1280 }).get(keyA)).toStrictEqual(
      credentials,
    );
  });

  it("S39: the same backend refuses the record unchunked (the limit is real)", async () => {
    const backend = new FakeKeyring({ maxBlobBytes: 2560 });
    const store = new KeyringTokenStore({ backend, maxEntryLength: 100_000 });
    const error = await rejectionOf(store.set(keyA, bigCredentials(10 * 1024)));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
  });

  it("S39: the header is written last, after every chunk", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    await store.set(keyA, bigCredentials(2000));
    const sets = backend.calls.filter((call) => call.op === "set").map((call) => call.account);
    expect(sets.length).toBeGreaterThan(2);
    expect(sets.at(-1)).toBe(account);
    expect(sets.slice(0, -1).every((name) => name.startsWith(`${account}#`))).toBe(true);
  });

  it("S39: a missing chunk reads as absent, never as truncated data", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    await store.set(keyA, bigCredentials(2000));
    const chunk = backend.accounts().find((name) => name.endsWith("/3"));
    expect(chunk).toBeDefined();
    backend.entries.delete(`latchkey\n${chunk}`);
    expect(await store.get(keyA)).toBeUndefined();
  });

  it("S39: a chunk that does not match the header (changed, or cut short) reads as absent", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    await store.set(keyA, bigCredentials(2000));
    const chunk = `latchkey\n${backend.accounts().find((name) => name.endsWith("/1"))}`;
    const original = backend.entries.get(chunk) ?? "";
    backend.entries.set(chunk, `${original.slice(0, -1)}y`);
    expect(await store.get(keyA)).toBeUndefined();
    backend.entries.set(chunk, original.slice(0, 100));
    expect(await store.get(keyA)).toBeUndefined();
    backend.entries.set(chunk, original);
    expect((await store.get(keyA))?.accessToken).toBe("at-SENTINEL-123");
  });

  it("S39: a crash before the header is written leaves the previous record readable", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    await store.set(keyA, bigCredentials(1000, "a"));
    backend.beforeCall = (call) => {
      if (call.op === "set" && call.account === account) throw new Error("killed");
    };
    await expect(store.set(keyA, bigCredentials(3000, "b"))).rejects.toBeInstanceOf(StoreError);
    backend.beforeCall = undefined;
    expect(await store.get(keyA)).toStrictEqual(bigCredentials(1000, "a"));
  });

  it("S39: replacing a chunked record deletes the previous chunks; delete removes everything", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    await store.set(keyA, bigCredentials(2000, "a"));
    const first = backend.accounts();
    await store.set(keyA, bigCredentials(2000, "b"));
    const second = backend.accounts();
    expect(second.filter((name) => first.includes(name))).toEqual([account]);
    await store.set(keyA, minimalCredentials("small"));
    expect(backend.accounts()).toEqual([account]);
    await store.set(keyA, bigCredentials(2000, "c"));
    await store.delete(keyA);
    expect(backend.accounts()).toEqual([]);
    expect(await store.get(keyA)).toBeUndefined();
    await store.delete(keyA); // idempotent
  });

  it("S39: a read that races a writer reads the header again instead of reporting absence", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    await store.set(keyA, bigCredentials(2000, "a"));
    const writer = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    let replaced = false;
    backend.beforeCall = (call) => {
      // Right after the reader saw the old header, another process replaces the record.
      if (!replaced && call.op === "get" && call.account.includes("#")) {
        replaced = true;
        backend.beforeCall = undefined;
        void writer.set(keyA, bigCredentials(2000, "b"));
      }
    };
    const read = await store.get(keyA);
    expect(replaced).toBe(true);
    expect([bigCredentials(2000, "a").idToken, bigCredentials(2000, "b").idToken]).toContain(
      read?.idToken,
    );
  });

  it("S39: non-ASCII values are stored as ASCII and round-trip; chunks split anywhere", async () => {
    const backend = new FakeKeyring({ maxBlobBytes: 512 });
    const store = new KeyringTokenStore({ backend, maxEntryLength: 256 });
    const credentials = fullCredentials({ scope: "é😀€ ".repeat(200) });
    await store.set(keyA, credentials);
    for (const value of backend.entries.values()) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(await store.get(keyA)).toStrictEqual(credentials);
  });

  it("an entry that is neither a record nor a header is STORE_CORRUPT and left in place", async () => {
    const backend = new FakeKeyring();
    backend.entries.set(`latchkey\n${account}`, "garbage-at-SENTINEL");
    const store = new KeyringTokenStore({ backend });
    const error = await rejectionOf(store.get(keyA));
    expect(error).toMatchObject({ code: "STORE_CORRUPT" });
    expect((error as Error).message).not.toContain("SENTINEL");
    backend.entries.set(`latchkey\n${account}`, '{"v":2}');
    expect(await rejectionOf(store.get(keyA))).toMatchObject({ code: "STORE_CORRUPT" });
    expect(backend.entries.get(`latchkey\n${account}`)).toBe('{"v":2}');
  });

  it("keys differing in one part are separate entries; the service name is an option", async () => {
    const backend = new FakeKeyring();
    const store = new KeyringTokenStore({ backend, service: "latchkey-test" });
    await store.set(keyA, minimalCredentials("a"));
    await store.set({ ...keyA, profile: "work" }, minimalCredentials("b"));
    expect(backend.accounts("latchkey-test")).toHaveLength(2);
    expect((await store.get(keyA))?.accessToken).toBe("a");
    expect((await store.get({ ...keyA, profile: "work" }))?.accessToken).toBe("b");
  });

  it("refuses an entry limit too small for a header", () => {
    expect(() => new KeyringTokenStore({ backend: new FakeKeyring(), maxEntryLength: 10 })).toThrow(
      StoreError,
    );
  });

  it("S39: default entry limits per platform", () => {
    expect(defaultKeyringEntryLength("win32")).toBe(1280);
    expect(defaultKeyringEntryLength("darwin")).toBeLessThanOrEqual(3000);
    expect(defaultKeyringEntryLength("linux")).toBeGreaterThan(1280);
  });
});

describe("the usability probe", () => {
  it("is skipped when a complete record is already stored under the key being read", async () => {
    const backend = new FakeKeyring();
    await new KeyringTokenStore({ backend }).set(keyA, fullCredentials());
    backend.calls.length = 0;
    const store = await openKeyringTokenStore({ backend, skipProbeIfStored: keyA });
    expect(backend.calls.map((call) => call.op)).not.toContain("set");
    expect(await store.get(keyA)).toEqual(fullCredentials());
    // The record read to skip the probe serves that first get: the keyring is read once.
    expect(backend.calls.filter((call) => call.op === "get")).toHaveLength(1);
    // Later reads go to the keyring again (another process may have written meanwhile).
    expect(await store.get(keyA)).toEqual(fullCredentials());
    expect(backend.calls.filter((call) => call.op === "get")).toHaveLength(2);
  });

  it("still runs when nothing is stored: an empty read proves nothing (a keyring not unlocked reads empty)", async () => {
    const backend = new FakeKeyring();
    await openKeyringTokenStore({ backend, skipProbeIfStored: keyA });
    expect(backend.calls.map((call) => call.op)).toEqual(["get", "set", "delete"]);
    backend.calls.length = 0;
    backend.setPassword = async () => {
      throw new Error("Object does not exist at path /org/freedesktop/secrets/collection/login");
    };
    const error = await rejectionOf(openKeyringTokenStore({ backend, skipProbeIfStored: keyA }));
    expect(error).toBeInstanceOf(KeyringUnavailableError);
  });

  it("writes then deletes a probe entry, and never reads", async () => {
    const backend = new FakeKeyring();
    await new KeyringTokenStore({ backend }).probe();
    expect(backend.calls.map((call) => call.op)).toEqual(["set", "delete"]);
    expect(backend.entries.size).toBe(0);
  });

  it("times out with reason timeout when the keyring does not answer", async () => {
    const backend = new FakeKeyring();
    backend.setPassword = () => new Promise(() => {});
    const error = await rejectionOf(new KeyringTokenStore({ backend }).probe({ timeoutMs: 50 }));
    expect(error).toBeInstanceOf(KeyringUnavailableError);
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", reason: "timeout" });
  });
});

// docs/development.md: what keytar says when it cannot work (plus @napi-rs/keyring's wording).
const failures: ReadonlyArray<[string, string, string]> = [
  ["Cannot autolaunch D-Bus without X11 $DISPLAY", "no-dbus", "D-Bus"],
  [
    "Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead",
    "no-dbus",
    "D-Bus",
  ],
  [
    "The name org.freedesktop.secrets was not provided by any .service files",
    "no-secret-service",
    "Secret Service",
  ],
  [
    "Object does not exist at path “/org/freedesktop/secrets/collection/login”",
    "not-unlocked",
    "unlock",
  ],
  ["Couldn't access platform storage: Secret Service: no result found", "not-unlocked", "unlock"],
  ["Cannot create an item in a locked collection", "locked", "unlock"],
  [
    "Couldn't access platform storage: Secret Service: unlock prompt was dismissed",
    "locked",
    "unlock",
  ],
  ["Something else entirely", "failed", "keyring"],
];

describe("keyring failures become coded errors", () => {
  it.each(failures)("S38: %s → %s", async (text, reason, advice) => {
    const error = keyringError(new Error(text), "keytar");
    expect(error).toBeInstanceOf(KeyringUnavailableError);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({
      code: "STORE_UNAVAILABLE",
      reason,
      name: "KeyringUnavailableError",
    });
    expect(error.message).toContain(advice);
    expect(error.message).toContain("--store file");
    expect(error.message).not.toContain("\n");

    const backend = new FakeKeyring();
    backend.fail = text;
    const probed = await rejectionOf(openKeyringTokenStore({ backend }));
    expect(probed).toMatchObject({ code: "STORE_UNAVAILABLE", reason });
  });

  it("a missing library is not-installed, naming both libraries", async () => {
    const error = await rejectionOf(
      loadBackend({}, async (name) => {
        throw new Error(`Cannot find module '${name}'`);
      }),
    );
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", reason: "not-installed" });
    expect((error as Error).message).toMatch(/keytar.*@napi-rs\/keyring/);
  });

  it("keytar is tried first, then @napi-rs/keyring", async () => {
    const tried: string[] = [];
    const backend = await loadBackend({}, async (name) => {
      tried.push(name);
      if (name === "keytar") throw new Error("Cannot find module keytar.node");
      return { AsyncEntry: class {} };
    });
    expect(tried).toEqual(["keytar", "@napi-rs/keyring"]);
    expect(backend.name).toBe("@napi-rs/keyring");
  });
});
