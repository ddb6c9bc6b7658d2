import type { Socket } from "node:net";
import { withTimeout } from "@latchkey/core/async";
import {
  type Call,
  type DBusValue,
  decodeMessage,
  ERROR,
  encodeCall,
  METHOD_RETURN,
  messageLength,
  type Reply,
  SecretServiceReadError,
} from "./dbus-wire.js";

export {
  decodeMessage,
  encodeCall,
  messageLength,
  SecretServiceReadError,
} from "./dbus-wire.js";

/**
 * A read-only Secret Service client that speaks D-Bus itself, for the one call on the hot path
 * of `latchkey token`: reading an entry that keytar wrote. Loading keytar means loading
 * libsecret, GLib and GIO and starting their threads (about 25 ms and 6 MiB per process); one
 * unix socket and four messages do the same read in a few milliseconds.
 *
 * It reads exactly what keytar's `getPassword` reads (libsecret's `secret_password_lookup` with
 * keytar's schema): the first unlocked item whose attributes are `xdg:schema` =
 * `org.freedesktop.Secret.Generic`, `service` and `account`, through a `plain` session (the
 * secret crosses the per-user bus socket, which is what libsecret's encrypted session protects
 * against only in theory: anyone who can read that socket is the user). Anything else (no bus
 * address it understands, a locked item, any error, no answer within the timeout) throws, and
 * the caller goes through keytar as before. It never writes and never prompts.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const SECRETS = "org.freedesktop.secrets";
const SERVICE_PATH = "/org/freedesktop/secrets";
const KEYTAR_SCHEMA = "org.freedesktop.Secret.Generic";

/** The unix socket path of a D-Bus address (`unix:path=` or `unix:abstract=`), if it has one. */
export function unixSocketOfAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  for (const entry of address.split(";")) {
    const colon = entry.indexOf(":");
    if (colon < 0 || entry.slice(0, colon) !== "unix") continue;
    const keys = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(",")) {
      const eq = pair.indexOf("=");
      if (eq > 0) keys.set(pair.slice(0, eq), unescapeAddressValue(pair.slice(eq + 1)));
    }
    const path = keys.get("path");
    if (path) return path;
    const abstract = keys.get("abstract");
    // Node reaches an abstract socket through a path that starts with a NUL byte.
    if (abstract) return `\0${abstract}`;
  }
  return undefined;
}

function unescapeAddressValue(value: string): string {
  return value.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

// ---------------------------------------------------------------- connection

class Connection {
  private serial = 0;
  private buffered = new Uint8Array(0);
  private authenticated = false;
  private readonly queued: Uint8Array[] = [];
  private failure: Error | undefined;
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void }
  >();

  private readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error) => this.fail(new SecretServiceReadError(error.message)));
    socket.on("close", () => this.fail(new SecretServiceReadError("the D-Bus connection closed")));
    const uid = process.getuid?.() ?? 0;
    const hexUid = Buffer.from(String(uid), "ascii").toString("hex");
    // Calls made before the daemon said OK wait in `queued` and go out with BEGIN, in one write.
    // (Sending BEGIN before OK, as sd-bus does, measured slower with dbus-daemon.)
    socket.write(`\0AUTH EXTERNAL ${hexUid}\r\n`);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
    this.socket.destroy();
  }

  private receive(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buffered.length + chunk.length);
    joined.set(this.buffered);
    joined.set(chunk, this.buffered.length);
    this.buffered = joined;
    try {
      if (!this.authenticated) {
        const end = this.buffered.indexOf(0x0a);
        if (end < 0) {
          if (this.buffered.length > 4096) throw new SecretServiceReadError("bad auth reply");
          return;
        }
        const line = decoder.decode(this.buffered.subarray(0, end)).trim();
        this.buffered = this.buffered.slice(end + 1);
        if (!line.startsWith("OK ")) {
          throw new SecretServiceReadError("the D-Bus daemon refused EXTERNAL authentication");
        }
        this.authenticated = true;
        this.socket.write(concat([encoder.encode("BEGIN\r\n"), ...this.queued.splice(0)]));
      }
      for (;;) {
        const length = messageLength(this.buffered);
        if (length === 0) break;
        const message = decodeMessage(this.buffered.subarray(0, length));
        this.buffered = this.buffered.slice(length);
        this.dispatch(message);
      }
    } catch (error) {
      this.fail(error instanceof Error ? error : new SecretServiceReadError("bad D-Bus message"));
    }
  }

  private dispatch(message: Reply): void {
    if (message.type !== METHOD_RETURN && message.type !== ERROR) return; // signals
    if (message.replySerial === undefined) return;
    const call = this.pending.get(message.replySerial);
    if (!call) return;
    this.pending.delete(message.replySerial);
    if (message.type === ERROR) {
      const text = typeof message.body[0] === "string" ? `: ${message.body[0]}` : "";
      call.reject(new SecretServiceReadError(`${message.errorName ?? "D-Bus error"}${text}`));
    } else {
      call.resolve(message);
    }
  }

  /** Sends a call (pipelined: no waiting for earlier replies) and resolves with its reply's body. */
  async call(call: Call): Promise<DBusValue[]> {
    if (this.failure) throw this.failure;
    const serial = ++this.serial;
    const reply = new Promise<Reply>((resolve, reject) =>
      this.pending.set(serial, { resolve, reject }),
    );
    // Kept alive only while a reply is awaited: an idle reader never holds the process open.
    this.socket.ref();
    const message = encodeCall(call, serial);
    if (this.authenticated) this.socket.write(message);
    else this.queued.push(message);
    try {
      return (await reply).body;
    } finally {
      if (this.pending.size === 0) this.socket.unref();
    }
  }

  close(): void {
    this.fail(new SecretServiceReadError("closed"));
  }
}

async function connectTo(path: string): Promise<Socket> {
  // Loaded here, not at the top: a process that never reads the keyring does not pay for it.
  const { connect } = await import("node:net");
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Opens one Secret Service session and returns a reader of keytar entries over it: `read`
 * resolves to the value keytar's `getPassword` would return (`null` when no item matches at all),
 * and rejects with a {@link SecretServiceReadError} whenever keytar might have answered
 * otherwise (a locked item, an error, a timeout). `close` ends the connection.
 */
export async function openSecretServiceReader(
  options: { env?: Readonly<Record<string, string | undefined>>; timeoutMs?: number } = {},
): Promise<SecretServiceReader> {
  const env = options.env ?? process.env;
  const path = unixSocketOfAddress(env.DBUS_SESSION_BUS_ADDRESS);
  if (path === undefined) {
    throw new SecretServiceReadError("no unix D-Bus session address");
  }
  const timeoutMs = options.timeoutMs ?? 2000;
  const socket = await withTimeout(connectTo(path), timeoutMs, () => noAnswer(timeoutMs));
  const connection = new Connection(socket);
  const hello = connection.call({
    destination: "org.freedesktop.DBus",
    path: "/org/freedesktop/DBus",
    interface: "org.freedesktop.DBus",
    member: "Hello",
  });
  const opened = connection.call({
    destination: SECRETS,
    path: SERVICE_PATH,
    interface: "org.freedesktop.Secret.Service",
    member: "OpenSession",
    signature: "sv",
    body: ["plain", { signature: "s", value: "" }],
  });
  // Not awaited here: the first read's search goes out right behind these calls.
  const session = Promise.all([hello, opened]).then(([, [, path]]) => {
    if (typeof path !== "string") throw new SecretServiceReadError("bad OpenSession reply");
    return path;
  });
  session.catch(() => {});
  return new SessionReader(connection, session, timeoutMs);
}

/** A Secret Service session that reads keytar entries; see {@link openSecretServiceReader}. */
export interface SecretServiceReader {
  /** What keytar's `getPassword(service, account)` would return. */
  read(service: string, account: string): Promise<string | null>;
  /** Ends the connection (the service closes the session with it). */
  close(): void;
}

class SessionReader implements SecretServiceReader {
  private readonly connection: Connection;
  private readonly session: Promise<string>;
  private readonly timeoutMs: number;

  constructor(connection: Connection, session: Promise<string>, timeoutMs: number) {
    this.connection = connection;
    this.session = session;
    this.timeoutMs = timeoutMs;
  }

  async read(service: string, account: string): Promise<string | null> {
    try {
      return await this.lookup(service, account);
    } catch (error) {
      // Whatever went wrong, this connection is done: a call left waiting would keep the
      // process alive (a socket with a pending reply is ref'd), and the caller asks keytar.
      this.connection.close();
      throw error;
    }
  }

  private async lookup(service: string, account: string): Promise<string | null> {
    const search = this.connection.call({
      destination: SECRETS,
      path: SERVICE_PATH,
      interface: "org.freedesktop.Secret.Service",
      member: "SearchItems",
      signature: "a{ss}",
      body: [
        [
          ["xdg:schema", KEYTAR_SCHEMA],
          ["service", service],
          ["account", account],
        ],
      ],
    });
    // Waits for the session too: a read that cannot get the secret must not claim "none".
    const [[unlocked, locked], session] = await withTimeout(
      Promise.all([search, this.session]),
      this.timeoutMs,
      () => noAnswer(this.timeoutMs),
    );
    if (!Array.isArray(unlocked) || !Array.isArray(locked)) {
      throw new SecretServiceReadError("bad SearchItems reply");
    }
    const item = unlocked[0];
    if (item === undefined) {
      if (locked.length > 0) throw new SecretServiceReadError("the item is locked");
      return null;
    }
    const [secret] = await withTimeout(
      this.connection.call({
        destination: SECRETS,
        path: item as string,
        interface: "org.freedesktop.Secret.Item",
        member: "GetSecret",
        signature: "o",
        body: [session],
      }),
      this.timeoutMs,
      () => noAnswer(this.timeoutMs),
    );
    const value = Array.isArray(secret) ? secret[2] : undefined;
    if (!(value instanceof Uint8Array)) throw new SecretServiceReadError("bad GetSecret reply");
    return decoder.decode(value);
  }

  close(): void {
    this.connection.close();
  }
}

const noAnswer = (ms: number): SecretServiceReadError =>
  new SecretServiceReadError(`no answer within ${ms} ms`);

function concat(parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** Options of {@link canReadSecretServiceDirectly}. */
export interface DirectReadEnvironment {
  /** The platform; default `process.platform`. */
  platform?: string;
  /** The environment holding `DBUS_SESSION_BUS_ADDRESS`; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Whether keytar entries can be read over D-Bus directly: a platform where keytar uses
 * libsecret (not macOS or Windows) with a unix-socket session bus address.
 */
export function canReadSecretServiceDirectly(options: DirectReadEnvironment = {}): boolean {
  const platform = options.platform ?? process.platform;
  if (platform === "darwin" || platform === "win32") return false;
  const env = options.env ?? process.env;
  return unixSocketOfAddress(env.DBUS_SESSION_BUS_ADDRESS) !== undefined;
}
