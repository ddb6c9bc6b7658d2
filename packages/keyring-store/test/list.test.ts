// Issue 12 point 11: the stores list what they hold, each record with its key, for
// `latchkey status --all`.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CredentialKey, credentialKeyId, serializeCredentials } from "@latchkey/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { directReadKeytarBackend } from "../src/direct-read.js";
import { fileStem } from "../src/file.js";
import {
  FileTokenStore,
  type KeyringBackend,
  type KeyringBackendName,
  KeyringTokenStore,
  MemoryTokenStore,
  openKeyringBackend,
} from "../src/index.js";
import { fullCredentials, keyA, otherKeys, tempDir } from "./helpers.js";
import { describeRealKeyring } from "./keyring-session.js";

const byId = (a: { key: CredentialKey }, b: { key: CredentialKey }): number =>
  credentialKeyId(a.key).localeCompare(credentialKeyId(b.key));

const keys: CredentialKey[] = [keyA, ...otherKeys];

describe("FileTokenStore.list", () => {
  it("lists every record with its key; skips temporary files, other files and unreadable records", async () => {
    const directory = await tempDir();
    const store = new FileTokenStore({ directory });
    expect(await new FileTokenStore({ directory: join(directory, "absent") }).list()).toEqual([]);
    for (const [index, key] of keys.entries())
      await store.set(key, fullCredentials({ accessToken: `at-${index}` }));
    writeFileSync(join(directory, `.${fileStem(keyA)}.1-abc.tmp`), "{");
    writeFileSync(join(directory, "notes.txt"), "hello");
    writeFileSync(join(directory, `credentials-${"0".repeat(32)}.json`), "not json");
    const listed = await store.list();
    expect(listed.map((entry) => entry.key).sort((a, b) => byId({ key: a }, { key: b }))).toEqual(
      [...keys].sort((a, b) => byId({ key: a }, { key: b })),
    );
    for (const entry of listed) expect(entry.credentials).toStrictEqual(await store.get(entry.key));
  });

  it("a record written before records carried their key: listed under profile default when its file name says so, left out otherwise", async () => {
    const directory = await tempDir();
    const store = new FileTokenStore({ directory });
    const legacy = serializeCredentials(fullCredentials());
    writeFileSync(store.filePath(keyA), legacy);
    writeFileSync(store.filePath({ ...keyA, profile: "work" }), legacy);
    expect(await store.list()).toEqual([{ key: keyA, credentials: fullCredentials() }]);
    // And the record still reads as before (older versions ignore the key field too).
    await store.set(keyA, fullCredentials());
    expect(await store.get(keyA)).toStrictEqual(fullCredentials());
  });
});

describe("MemoryTokenStore.list", () => {
  it("lists every record with its key", async () => {
    const store = new MemoryTokenStore();
    expect(await store.list()).toEqual([]);
    for (const key of keys) await store.set(key, fullCredentials({ clientId: key.clientId }));
    await store.delete(otherKeys[0] as CredentialKey);
    const listed = await store.list();
    expect(listed.map((entry) => entry.key)).toEqual([keyA, otherKeys[1], otherKeys[2]]);
  });
});

describe("KeyringTokenStore.list with a backend that cannot enumerate", () => {
  it("says so (STORE_UNAVAILABLE)", async () => {
    const backend: KeyringBackend = {
      name: "test",
      getPassword: async () => null,
      setPassword: async () => undefined,
      deletePassword: async () => false,
    };
    await expect(new KeyringTokenStore({ backend }).list()).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
  });
});

const libraries: readonly KeyringBackendName[] = ["keytar", "@napi-rs/keyring"];

describeRealKeyring("KeyringTokenStore.list on the real keyring", () => {
  it.each([...libraries, "keytar with direct reads"] as const)(
    "%s: lists the records of its service with their keys, chunked ones too, never chunks or other services",
    async (name) => {
      const backend =
        name === "keytar with direct reads"
          ? directReadKeytarBackend({ load: () => openKeyringBackend({ backend: "keytar" }) })
          : await openKeyringBackend({ backend: name });
      const service = `latchkey-test-${randomBytes(4).toString("hex")}`;
      const store = new KeyringTokenStore({ backend, service, maxEntryLength: 1280 });
      const other = new KeyringTokenStore({ backend, service: `${service}-other` });
      onTestFinished(async () => {
        for (const key of keys) await store.delete(key).catch(() => {});
        await other.delete(keyA).catch(() => {});
      });
      expect(await store.list()).toEqual([]);
      for (const key of keys) await store.set(key, fullCredentials({ clientId: key.clientId }));
      // A record long enough to be split into chunk entries.
      const chunked = fullCredentials({ idToken: `h.${"i".repeat(5000)}.s` });
      await store.set(keyA, chunked);
      await other.set(keyA, fullCredentials());
      const listed = (await store.list()).sort(byId);
      expect(listed.map((entry) => entry.key)).toEqual(
        [...keys].sort((a, b) => byId({ key: a }, { key: b })),
      );
      expect(
        listed.find((entry) => credentialKeyId(entry.key) === credentialKeyId(keyA))?.credentials,
      ).toStrictEqual(chunked);
    },
  );
});
