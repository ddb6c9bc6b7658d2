import { stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { StoreError } from "@latchkey/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createTokenStore,
  defaultStoreDirectory,
  FileTokenStore,
  KeyringTokenStore,
  KeyringUnavailableError,
  MemoryTokenStore,
  TOKEN_STORE_KINDS,
  type TokenStoreKind,
} from "../src/index.js";
import { FakeKeyring, keyA, minimalCredentials, rejectionOf, tempDir } from "./helpers.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("defaultStoreDirectory", () => {
  it("uses an absolute XDG_DATA_HOME", () => {
    expect(defaultStoreDirectory({ XDG_DATA_HOME: "/data/home" }, "/home/ada")).toBe(
      join("/data/home", "latchkey"),
    );
  });

  it("ignores a relative XDG_DATA_HOME (XDG Base Directory spec)", () => {
    expect(defaultStoreDirectory({ XDG_DATA_HOME: "relative/data" }, "/home/ada")).toBe(
      join("/home/ada", ".local", "share", "latchkey"),
    );
  });

  it("falls back to ~/.local/share/latchkey when XDG_DATA_HOME is unset or empty", () => {
    const expected = join("/home/ada", ".local", "share", "latchkey");
    expect(defaultStoreDirectory({}, "/home/ada")).toBe(expected);
    expect(defaultStoreDirectory({ XDG_DATA_HOME: "" }, "/home/ada")).toBe(expected);
  });

  it("reads process.env by default", () => {
    vi.stubEnv("XDG_DATA_HOME", "/from/process/env");
    expect(defaultStoreDirectory()).toBe(join("/from/process/env", "latchkey"));
  });

  it("throws STORE_UNAVAILABLE when there is no usable home directory", () => {
    for (const home of ["", "relative-home"]) {
      expect(() => defaultStoreDirectory({}, home)).toThrow(StoreError);
    }
  });
});

describe("createTokenStore", () => {
  it("memory: a MemoryTokenStore, no notice", async () => {
    const created = await createTokenStore({ kind: "memory" });
    expect(created.store).toBeInstanceOf(MemoryTokenStore);
    expect(created.store.kind).toBe("memory");
    expect(created).not.toHaveProperty("notice");
  });

  it("file: a FileTokenStore in the given directory, no notice, nothing created yet", async () => {
    const dir = join(await tempDir(), "store");
    const created = await createTokenStore({ kind: "file", directory: dir });
    expect(created.store).toBeInstanceOf(FileTokenStore);
    expect((created.store as FileTokenStore).directory).toBe(dir);
    expect(created).not.toHaveProperty("notice");
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
    await created.store.set(keyA, minimalCredentials());
    expect((await created.store.get(keyA))?.accessToken).toBe("at-minimal");
  });

  it("file: the default directory follows env and homedir", async () => {
    const viaXdg = await createTokenStore({
      kind: "file",
      env: { XDG_DATA_HOME: "/xdg" },
      homedir: "/home/ada",
    });
    expect((viaXdg.store as FileTokenStore).directory).toBe(join("/xdg", "latchkey"));
    const viaHome = await createTokenStore({
      kind: "file",
      env: {},
      homedir: "/home/ada",
    });
    expect((viaHome.store as FileTokenStore).directory).toBe(
      join("/home/ada", ".local", "share", "latchkey"),
    );
  });

  it("file: a relative directory is made absolute", async () => {
    const created = await createTokenStore({ kind: "file", directory: "rel" });
    expect((created.store as FileTokenStore).directory).toBe(join(process.cwd(), "rel"));
  });

  it("S38: auto falls back to the file store when the keyring probe fails, and says why in one line", async () => {
    const dir = join(await tempDir(), "store");
    const backend = new FakeKeyring();
    backend.fail = "Cannot create an item in a locked collection";
    const created = await createTokenStore({ kind: "auto", directory: dir, keyring: { backend } });
    expect(created.store).toBeInstanceOf(FileTokenStore);
    expect(created.store.kind).toBe("file");
    expect(created.notice).toBe(
      `The OS keyring is not usable (the keyring is locked); credentials are stored in files under ${dir}${sep} (mode 0600).`,
    );
    expect(created.notice).not.toContain("\n");
  });

  it("S38: auto names an unknown keyring failure in its notice", async () => {
    const backend = new FakeKeyring();
    backend.fail = "org.freedesktop.DBus.Error.NoReply: timed out";
    const created = await createTokenStore({
      kind: "auto",
      directory: await tempDir(),
      keyring: { backend },
    });
    expect(created.notice).toMatch(
      /^The OS keyring is not usable \(the keyring failed: org\.freedesktop\.DBus\.Error\.NoReply: timed out\); /,
    );
  });

  it("S38: auto uses a usable keyring, with no notice", async () => {
    const backend = new FakeKeyring();
    const created = await createTokenStore({
      kind: "auto",
      directory: await tempDir(),
      keyring: { backend },
    });
    expect(created.store).toBeInstanceOf(KeyringTokenStore);
    expect(created).not.toHaveProperty("notice");
    expect(backend.calls.map((call) => call.op)).toEqual(["set", "delete"]); // the probe only
  });

  it("keyring: a usable keyring is returned; an unusable one throws STORE_UNAVAILABLE pointing to --store file", async () => {
    const backend = new FakeKeyring();
    const created = await createTokenStore({
      kind: "keyring",
      keyring: { backend, service: "svc" },
    });
    expect(created.store).toBeInstanceOf(KeyringTokenStore);
    expect((created.store as KeyringTokenStore).service).toBe("svc");
    backend.fail = "Cannot autolaunch D-Bus without X11 $DISPLAY";
    const error = await rejectionOf(createTokenStore({ kind: "keyring", keyring: { backend } }));
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toBeInstanceOf(KeyringUnavailableError);
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", reason: "no-dbus" });
    expect((error as Error).message).toContain("--store file");
  });

  it("auto does not hide a configuration error behind the fallback", async () => {
    const error = await rejectionOf(
      createTokenStore({
        kind: "auto",
        directory: await tempDir(),
        keyring: { backend: new FakeKeyring(), maxEntryLength: 1 },
      }),
    );
    expect(error).toBeInstanceOf(StoreError);
    expect(error).not.toBeInstanceOf(KeyringUnavailableError);
  });

  it("an unknown kind is refused", async () => {
    const error = await rejectionOf(createTokenStore({ kind: "vault" as TokenStoreKind }));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toContain("vault");
  });

  it("TOKEN_STORE_KINDS lists the kinds of --store", () => {
    expect([...TOKEN_STORE_KINDS].sort()).toEqual(["auto", "file", "keyring", "memory"]);
  });
});
