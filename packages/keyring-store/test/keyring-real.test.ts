import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, sep } from "node:path";
import { credentialKeyId } from "@latchkey/core";
import { beforeAll, expect, it, onTestFinished } from "vitest";
import {
  createTokenStore,
  FileTokenStore,
  type KeyringBackend,
  type KeyringBackendName,
  KeyringTokenStore,
  openKeyringBackend,
} from "../src/index.js";
import { fullCredentials, keyA, minimalCredentials, tempDir } from "./helpers.js";
import {
  describeRealKeyring,
  type KeyringSituation,
  lastJsonLine,
  runInSituation,
} from "./keyring-session.js";

const fixture = join(import.meta.dirname, "fixtures", "open-store.mjs");
const dist = join(import.meta.dirname, "..", "dist", "index.js");

/** A service name of its own per test, whose entries are removed afterwards. */
function testService(backend: KeyringBackend): string {
  const service = `latchkey-test-${randomBytes(4).toString("hex")}`;
  onTestFinished(async () => {
    // Whatever a test left behind under its service: the main entries of keyA and chunks are
    // removed by the store's delete; stray probe entries are deleted by the probe itself.
    await new KeyringTokenStore({ backend, service }).delete(keyA).catch(() => {});
  });
  return service;
}

/** A real backend that refuses values over 2560 bytes as UTF-16, as Windows does (S39). */
function windowsSized(inner: KeyringBackend): KeyringBackend & { largest: number } {
  const limited = {
    name: `${inner.name} (2560-byte blobs)`,
    largest: 0,
    getPassword: (service: string, account: string) => inner.getPassword(service, account),
    deletePassword: (service: string, account: string) => inner.deletePassword(service, account),
    async setPassword(service: string, account: string, password: string) {
      if (password.length * 2 > 2560) throw new Error("The stub received bad data.");
      limited.largest = Math.max(limited.largest, password.length * 2);
      await inner.setPassword(service, account, password);
    },
  };
  return limited;
}

const libraries: readonly KeyringBackendName[] = ["keytar", "@napi-rs/keyring"];

describeRealKeyring("the real keyring (gnome-keyring in a private D-Bus session)", () => {
  const backends = new Map<KeyringBackendName, KeyringBackend>();
  beforeAll(async () => {
    for (const name of libraries) backends.set(name, await openKeyringBackend({ backend: name }));
  });
  const backend = (name: KeyringBackendName): KeyringBackend => {
    const found = backends.get(name);
    if (found === undefined) throw new Error(`${name} did not load`);
    return found;
  };

  it.each(libraries)("S38: %s passes the probe and round-trips a record", async (name) => {
    const store = new KeyringTokenStore({
      backend: backend(name),
      service: testService(backend(name)),
    });
    await store.probe();
    expect(await store.get(keyA)).toBeUndefined();
    await store.set(keyA, fullCredentials());
    expect(await store.get(keyA)).toStrictEqual(fullCredentials());
    await store.set(keyA, fullCredentials({ accessToken: "at-2", refreshToken: "rt-rotated" }));
    expect((await store.get(keyA))?.refreshToken).toBe("rt-rotated");
    await store.delete(keyA);
    expect(await store.get(keyA)).toBeUndefined();
    expect(await backend(name).getPassword(store.service, credentialKeyId(keyA))).toBeNull();
  });

  it("keytar and @napi-rs/keyring keep separate Secret Service items (README: switching libraries means logging in again)", async () => {
    const service = testService(backend("keytar"));
    await new KeyringTokenStore({ backend: backend("keytar"), service }).set(
      keyA,
      fullCredentials(),
    );
    const viaNapi = new KeyringTokenStore({ backend: backend("@napi-rs/keyring"), service });
    expect(await viaNapi.get(keyA)).toBeUndefined();
  });

  it.each(libraries)(
    "S39: a 10 KB record round-trips through %s limited to 2560-byte blobs",
    async (name) => {
      const limited = windowsSized(backend(name));
      const service = testService(backend(name));
      const store = new KeyringTokenStore({ backend: limited, service, maxEntryLength: 1280 });
      const credentials = fullCredentials({ idToken: `h.${"i".repeat(10 * 1024)}.s` });
      await store.set(keyA, credentials);
      expect(limited.largest).toBeLessThanOrEqual(2560);
      expect(limited.largest).toBeGreaterThan(2000);
      expect(await store.get(keyA)).toStrictEqual(credentials);
      // Unchunked, the same record is refused: the limit is enforced.
      const unchunked = new KeyringTokenStore({
        backend: limited,
        service,
        maxEntryLength: 20_000,
      });
      await expect(unchunked.set(keyA, credentials)).rejects.toMatchObject({
        code: "STORE_UNAVAILABLE",
      });
      expect(await store.get(keyA)).toStrictEqual(credentials); // the previous record survived
    },
  );

  it("S39: a chunk missing from the real keyring reads as absent", async () => {
    const real = backend("keytar");
    const service = testService(real);
    const store = new KeyringTokenStore({ backend: real, service, maxEntryLength: 1280 });
    await store.set(keyA, fullCredentials({ idToken: `h.${"j".repeat(5000)}.s` }));
    const header = (await real.getPassword(service, credentialKeyId(keyA))) ?? "";
    const [, count, generation] = header.split(" ");
    expect(Number(count)).toBeGreaterThan(1);
    expect(await real.deletePassword(service, `${credentialKeyId(keyA)}#${generation}/1`)).toBe(
      true,
    );
    expect(await store.get(keyA)).toBeUndefined();
  });

  it("S38: createTokenStore keyring and auto use the unlocked keyring, with no notice", async () => {
    const service = testService(backend("keytar"));
    onTestFinished(() =>
      new KeyringTokenStore({ backend: backend("@napi-rs/keyring"), service }).delete(keyA),
    );
    const keyring = await createTokenStore({ kind: "keyring", keyring: { service } });
    expect(keyring.store).toBeInstanceOf(KeyringTokenStore);
    expect((keyring.store as KeyringTokenStore).backend.name).toBe("keytar");
    expect(keyring).not.toHaveProperty("notice");
    const auto = await createTokenStore({
      kind: "auto",
      directory: await tempDir(),
      keyring: { service, backend: "@napi-rs/keyring" },
    });
    expect(auto.store.kind).toBe("keyring");
    expect(auto).not.toHaveProperty("notice");
    await auto.store.set(keyA, minimalCredentials("via-auto"));
    expect((await auto.store.get(keyA))?.accessToken).toBe("via-auto");
    await keyring.store.set(keyA, minimalCredentials("via-keyring"));
    expect((await keyring.store.get(keyA))?.accessToken).toBe("via-keyring");
  });

  // Each situation in a process of its own, with its own D-Bus session (or none).
  const situations: ReadonlyArray<[KeyringSituation, string, RegExp]> = [
    ["no-dbus", "no-dbus", /D-Bus session bus/],
    ["no-secret-service", "no-secret-service", /no Secret Service/],
    ["not-unlocked", "not-unlocked", /no unlocked login keyring|no unlocked default keyring/],
    ["locked", "locked", /locked/],
  ];

  for (const library of libraries) {
    it.each(situations)(
      `S38: ${library}, %s: keyring → STORE_UNAVAILABLE (%s), auto → the file store with a notice`,
      async (situation, reason, why) => {
        if (!existsSync(dist))
          throw new Error("Build the package first: pnpm --filter @latchkey/keyring-store build");
        const directory = await tempDir();
        const keyring = lastJsonLine(
          (
            await runInSituation(situation, fixture, [
              JSON.stringify({ kind: "keyring", keyring: { backend: library } }),
            ])
          ).stdout,
        );
        expect(keyring).toMatchObject({
          ok: false,
          name: "KeyringUnavailableError",
          code: "STORE_UNAVAILABLE",
          reason,
        });
        expect(keyring.message).toMatch(why);
        expect(keyring.message).toContain("--store file");

        const auto = lastJsonLine(
          (
            await runInSituation(situation, fixture, [
              JSON.stringify({ kind: "auto", directory, keyring: { backend: library } }),
            ])
          ).stdout,
        );
        expect(auto).toMatchObject({ ok: true, kind: "file", roundTrip: true });
        expect(auto.notice).toMatch(
          /^The OS keyring is not usable \(.+\); credentials are stored in files under /,
        );
        expect(auto.notice).toMatch(why);
        expect(auto.notice).toContain(`${directory}${sep}`);
        expect(auto.notice).not.toContain("\n");
      },
    );
  }

  it("S38: a fresh unlocked session in a child process uses the keyring (the fixture works)", async () => {
    const result = await runInSituation("unlocked", fixture, [
      JSON.stringify({ kind: "auto", directory: await tempDir() }),
    ]);
    expect(lastJsonLine(result.stdout)).toMatchObject({
      ok: true,
      kind: "keyring",
      roundTrip: true,
    });
  });

  it("S38: the file store is not what auto picked when the keyring works", async () => {
    const created = await createTokenStore({ kind: "auto", directory: await tempDir() });
    expect(created.store).not.toBeInstanceOf(FileTokenStore);
  });
});
