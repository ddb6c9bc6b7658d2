import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { directReadKeytarBackend } from "../src/direct-read.js";
import type { KeyringBackend } from "../src/index.js";
import {
  canReadSecretServiceDirectly,
  decodeMessage,
  encodeCall,
  messageLength,
  openSecretServiceReader,
  SecretServiceReadError,
  unixSocketOfAddress,
} from "../src/secret-service.js";
import { tempDir } from "./helpers.js";
import { describeRealKeyring, lastJsonLine, runChild, runInSituation } from "./keyring-session.js";

const fixture = join(import.meta.dirname, "fixtures", "direct-read.mjs");

describe("D-Bus addresses", () => {
  it("finds the unix socket of a session bus address", () => {
    expect(unixSocketOfAddress("unix:path=/tmp/dbus-abc,guid=0123")).toBe("/tmp/dbus-abc");
    expect(unixSocketOfAddress("unix:abstract=/tmp/dbus-xyz,guid=1")).toBe("\0/tmp/dbus-xyz");
    expect(unixSocketOfAddress("unix:path=/run/user/1000/b%2cus")).toBe("/run/user/1000/b,us");
    expect(unixSocketOfAddress("tcp:host=localhost,port=1;unix:path=/tmp/b")).toBe("/tmp/b");
  });

  it("has none for a TCP-only, launchd or empty address", () => {
    expect(unixSocketOfAddress("tcp:host=localhost,port=12345")).toBeUndefined();
    expect(unixSocketOfAddress("launchd:env=DBUS_LAUNCHD_SESSION_BUS_SOCKET")).toBeUndefined();
    expect(unixSocketOfAddress("unix:tmpdir=/tmp")).toBeUndefined();
    expect(unixSocketOfAddress("")).toBeUndefined();
    expect(unixSocketOfAddress(undefined)).toBeUndefined();
  });

  it("is only used where keytar itself talks to the Secret Service", () => {
    const env = { DBUS_SESSION_BUS_ADDRESS: "unix:path=/tmp/bus" };
    expect(canReadSecretServiceDirectly({ platform: "linux", env })).toBe(true);
    expect(canReadSecretServiceDirectly({ platform: "freebsd", env })).toBe(true);
    expect(canReadSecretServiceDirectly({ platform: "darwin", env })).toBe(false);
    expect(canReadSecretServiceDirectly({ platform: "win32", env })).toBe(false);
    expect(canReadSecretServiceDirectly({ platform: "linux", env: {} })).toBe(false);
  });
});

describe("D-Bus messages", () => {
  it("encodes a call that decodes back to the same header and body", () => {
    const message = encodeCall(
      {
        destination: "org.freedesktop.secrets",
        path: "/org/freedesktop/secrets",
        interface: "org.freedesktop.Secret.Service",
        member: "SearchItems",
        signature: "a{ss}",
        body: [
          [
            ["service", "latchkey"],
            ["account", "https%3A%2F%2Fidp|cli|ünïcode"],
          ],
        ],
      },
      7,
    );
    expect(message.length % 8).toBe(0);
    expect(messageLength(message)).toBe(message.length);
    expect(messageLength(message.subarray(0, message.length - 1))).toBe(0);
    expect(messageLength(message.subarray(0, 10))).toBe(0);
    const decoded = decodeMessage(message);
    expect(decoded.type).toBe(1);
    expect(decoded.body).toEqual([
      [
        ["service", "latchkey"],
        ["account", "https%3A%2F%2Fidp|cli|ünïcode"],
      ],
    ]);
  });

  it("refuses a message that claims to be longer than 64 MiB, or of an unknown byte order", () => {
    const header = new Uint8Array(16);
    header[0] = 0x6c;
    new DataView(header.buffer).setUint32(4, 0xffff_fff0, true);
    expect(() => messageLength(header)).toThrow(SecretServiceReadError);
    header[0] = 0x58;
    expect(() => messageLength(header)).toThrow(SecretServiceReadError);
  });
});

/** A unix socket server standing in for a broken bus: it says what `answer` says. */
async function fakeBus(answer: (socket: Socket, data: Buffer) => void): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, "bus");
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (data) => answer(socket, data));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        // A backend keeps its (idle, unref'd) connection: hang up on it.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return `unix:path=${path},guid=00`;
}

const library = (): KeyringBackend & { calls: number } => {
  const backend = {
    name: "keytar",
    calls: 0,
    async getPassword() {
      backend.calls++;
      return "from-library";
    },
    async setPassword() {},
    async deletePassword() {
      return false;
    },
  };
  return backend;
};

describe("a bus that does not behave", () => {
  it("a bus that never answers: the reader gives up after its timeout, and keytar answers instead", async () => {
    const address = await fakeBus(() => {});
    const env = { DBUS_SESSION_BUS_ADDRESS: address };
    const reader = await openSecretServiceReader({ env, timeoutMs: 200 });
    await expect(reader.read("latchkey", "a")).rejects.toThrow(/no answer within 200 ms/);
    reader.close();
    const fallback = library();
    const backend = directReadKeytarBackend({ env, timeoutMs: 200, load: async () => fallback });
    expect(await backend.getPassword("latchkey", "a")).toBe("from-library");
    expect(fallback.calls).toBe(1);
  });

  it("a bus that never answers: once keytar has answered, the process exits by itself", async () => {
    const address = await fakeBus(() => {});
    // A process that does not exit by itself is killed after 5 s, and runChild rejects.
    const result = await runChild(
      [process.execPath, join(import.meta.dirname, "fixtures", "hanging-bus-read.mjs")],
      { ...process.env, DBUS_SESSION_BUS_ADDRESS: address },
      5_000,
    );
    expect(result.stdout.trim(), result.stderr).toBe("from-library");
    expect(result.status).toBe(0);
  });

  it("a bus that refuses authentication or answers garbage: an error, never a crash or a hang", async () => {
    const cases = [
      ["REJECTED EXTERNAL\r\n", /refused EXTERNAL authentication/],
      ["OK 0123\r\nXXXXXXXXXXXXXXXXXXXXXXXX", /bad D-Bus endianness/],
    ] as const;
    for (const [reply, why] of cases) {
      const address = await fakeBus((socket) => socket.write(reply));
      const env = { DBUS_SESSION_BUS_ADDRESS: address };
      // The reason itself, not the timeout: a broken bus is detected, not waited out.
      const reader = await openSecretServiceReader({ env, timeoutMs: 5000 });
      const error = await reader.read("latchkey", "a").catch((e) => e);
      reader.close();
      expect(error).toBeInstanceOf(SecretServiceReadError);
      expect(String(error.message)).toMatch(why);
    }
  });

  it("a bus that closes the connection: an error, and keytar answers instead", async () => {
    const address = await fakeBus((socket) => socket.destroy());
    const env = { DBUS_SESSION_BUS_ADDRESS: address };
    const reader = await openSecretServiceReader({ env, timeoutMs: 5000 });
    await expect(reader.read("latchkey", "a")).rejects.toThrow(/connection closed/);
    const fallback = library();
    const backend = directReadKeytarBackend({ env, load: async () => fallback });
    expect(await backend.getPassword("latchkey", "a")).toBe("from-library");
  });

  it("nothing listening at the address: the reader cannot open, and keytar answers", async () => {
    const env = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${await tempDir()}/nobody-here` };
    await expect(openSecretServiceReader({ env })).rejects.toThrow();
    const fallback = library();
    const backend = directReadKeytarBackend({ env, load: async () => fallback });
    expect(await backend.getPassword("latchkey", "a")).toBe("from-library");
  });

  it("no bus address: keytar answers, and writes always go to the library", async () => {
    const fallback = library();
    const backend = directReadKeytarBackend({ env: {}, load: async () => fallback });
    expect(await backend.getPassword("latchkey", "a")).toBe("from-library");
    await backend.setPassword("latchkey", "a", "v");
    expect(await backend.deletePassword("latchkey", "a")).toBe(false);
  });
});

describeRealKeyring(
  "direct reads of keytar's entries (gnome-keyring in a private D-Bus session)",
  () => {
    it("S39: reads what keytar wrote, byte for byte, chunked records included, without loading libsecret; a locked item is left to keytar", async () => {
      const dir = await tempDir();
      const valueFile = join(dir, "value");
      const value = `päss-✓-${randomBytes(3000).toString("base64url")}`;
      await writeFile(valueFile, value);
      const service = `latchkey-direct-${randomBytes(4).toString("hex")}`;
      const result = await runInSituation("unlocked", fixture, [service, valueFile]);
      const report = lastJsonLine(result.stdout);
      expect(report, result.stderr).toMatchObject({
        ok: true,
        same: true,
        absent: null,
        recordBack: true,
        backendName: "keytar",
        libsecretLoadedAfterRead: false,
        lockedFallback: "from-library",
        asked: 1,
      });
      expect(report.locked).toMatch(/^SecretServiceReadError: the item is locked/);
    });

    it("directReads: false keeps every read in keytar (libsecret's encrypted session)", async () => {
      const dir = await tempDir();
      const valueFile = join(dir, "value");
      await writeFile(valueFile, `v-${randomBytes(16).toString("hex")}`);
      const service = `latchkey-direct-${randomBytes(4).toString("hex")}`;
      const result = await runInSituation("unlocked", fixture, [
        service,
        valueFile,
        "--library-reads",
      ]);
      expect(lastJsonLine(result.stdout), result.stderr).toMatchObject({
        ok: true,
        plainThroughStore: true,
        libsecretLoadedAfterRead: true,
      });
    });
  },
);
