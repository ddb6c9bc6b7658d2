import type { Socket } from "node:net";
import { withTimeout } from "./timeout.js";

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

const SECRETS = "org.freedesktop.secrets";
const SERVICE_PATH = "/org/freedesktop/secrets";
const KEYTAR_SCHEMA = "org.freedesktop.Secret.Generic";

/** Why the fast read could not answer; the caller then reads through the keyring library. */
export class SecretServiceReadError extends Error {
  override name = "SecretServiceReadError";
}

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

// ---------------------------------------------------------------- marshalling (D-Bus spec)

type DBusValue = string | number | boolean | bigint | Uint8Array | DBusValue[] | Variant;

interface Variant {
  signature: string;
  value: DBusValue;
}

const ALIGNMENT: Record<string, number> = {
  y: 1,
  g: 1,
  v: 1,
  n: 2,
  q: 2,
  b: 4,
  i: 4,
  u: 4,
  h: 4,
  s: 4,
  o: 4,
  a: 4,
  x: 8,
  t: 8,
  d: 8,
  "(": 8,
  "{": 8,
};

/** The length of the single complete type that starts at `start` of a signature. */
function completeTypeLength(signature: string, start: number): number {
  const code = signature[start];
  if (code === "a") return 1 + completeTypeLength(signature, start + 1);
  if (code === "(" || code === "{") {
    const close = code === "(" ? ")" : "}";
    let index = start + 1;
    while (signature[index] !== close) {
      if (index >= signature.length) throw new SecretServiceReadError("bad signature");
      index += completeTypeLength(signature, index);
    }
    return index + 1 - start;
  }
  if (code === undefined || !(code in ALIGNMENT)) {
    throw new SecretServiceReadError(`unsupported D-Bus type ${code ?? "(end)"}`);
  }
  return 1;
}

/** The complete types of a signature, e.g. `a{ss}o` → [`a{ss}`, `o`]. */
function splitSignature(signature: string): string[] {
  const types: string[] = [];
  for (let index = 0; index < signature.length; ) {
    const length = completeTypeLength(signature, index);
    types.push(signature.slice(index, index + length));
    index += length;
  }
  return types;
}

const encoder = new TextEncoder();

class Writer {
  private buffer = new Uint8Array(256);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  align(to: number): void {
    const padding = (to - (this.length % to)) % to;
    this.reserve(padding);
    this.buffer.fill(0, this.length, this.length + padding);
    this.length += padding;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  u32(value: number): void {
    this.align(4);
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value, true);
    this.length += 4;
  }

  setU32(at: number, value: number): void {
    new DataView(this.buffer.buffer).setUint32(at, value, true);
  }

  write(type: string, value: DBusValue): void {
    const code = type[0];
    switch (code) {
      case "y":
        this.u8(value as number);
        return;
      case "b":
        this.u32(value ? 1 : 0);
        return;
      case "u":
        this.u32(value as number);
        return;
      case "s":
      case "o": {
        const data = encoder.encode(value as string);
        this.u32(data.length);
        this.bytes(data);
        this.u8(0);
        return;
      }
      case "g": {
        const data = encoder.encode(value as string);
        this.u8(data.length);
        this.bytes(data);
        this.u8(0);
        return;
      }
      case "v": {
        const variant = value as Variant;
        this.write("g", variant.signature);
        this.write(variant.signature, variant.value);
        return;
      }
      case "a": {
        const element = type.slice(1);
        this.u32(0);
        const lengthAt = this.length - 4;
        this.align(ALIGNMENT[element[0] as string] ?? 1);
        const start = this.length;
        if (element === "y") this.bytes(value as Uint8Array);
        else for (const item of value as DBusValue[]) this.write(element, item);
        this.setU32(lengthAt, this.length - start);
        return;
      }
      case "(":
      case "{": {
        this.align(8);
        const fields = splitSignature(type.slice(1, -1));
        const values = value as DBusValue[];
        fields.forEach((field, index) => {
          this.write(field, values[index] as DBusValue);
        });
        return;
      }
      default:
        throw new SecretServiceReadError(`cannot write D-Bus type ${type}`);
    }
  }

  result(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

const decoder = new TextDecoder();

class Reader {
  private readonly view: DataView;
  private readonly data: Uint8Array;
  private readonly little: boolean;
  offset: number;

  constructor(data: Uint8Array, little: boolean, offset = 0) {
    this.data = data;
    this.little = little;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.offset = offset;
  }

  private need(count: number): void {
    if (this.offset + count > this.data.length) {
      throw new SecretServiceReadError("truncated D-Bus message");
    }
  }

  align(to: number): void {
    this.offset += (to - (this.offset % to)) % to;
  }

  u8(): number {
    this.need(1);
    return this.data[this.offset++] as number;
  }

  u32(): number {
    this.align(4);
    this.need(4);
    const value = this.view.getUint32(this.offset, this.little);
    this.offset += 4;
    return value;
  }

  private text(length: number): string {
    this.need(length + 1);
    const value = decoder.decode(this.data.subarray(this.offset, this.offset + length));
    this.offset += length + 1;
    return value;
  }

  read(type: string): DBusValue {
    switch (type[0]) {
      case "y":
        return this.u8();
      case "b":
        return this.u32() !== 0;
      case "n":
      case "q": {
        this.align(2);
        this.need(2);
        const value =
          type === "n"
            ? this.view.getInt16(this.offset, this.little)
            : this.view.getUint16(this.offset, this.little);
        this.offset += 2;
        return value;
      }
      case "i": {
        const value = this.u32();
        return value | 0;
      }
      case "u":
      case "h":
        return this.u32();
      case "x":
      case "t":
      case "d": {
        this.align(8);
        this.need(8);
        const value =
          type === "x"
            ? this.view.getBigInt64(this.offset, this.little)
            : type === "t"
              ? this.view.getBigUint64(this.offset, this.little)
              : this.view.getFloat64(this.offset, this.little);
        this.offset += 8;
        return value;
      }
      case "s":
      case "o":
        return this.text(this.u32());
      case "g":
        return this.text(this.u8());
      case "v": {
        const signature = this.text(this.u8());
        const types = splitSignature(signature);
        if (types.length !== 1) throw new SecretServiceReadError("bad variant");
        return { signature, value: this.read(signature) };
      }
      case "a": {
        const length = this.u32();
        const element = type.slice(1);
        this.align(ALIGNMENT[element[0] as string] ?? 1);
        this.need(length);
        const end = this.offset + length;
        if (element === "y") {
          const bytes = this.data.slice(this.offset, end);
          this.offset = end;
          return bytes;
        }
        const items: DBusValue[] = [];
        while (this.offset < end) items.push(this.read(element));
        if (this.offset !== end) throw new SecretServiceReadError("bad D-Bus array");
        return items;
      }
      case "(":
      case "{": {
        this.align(8);
        return splitSignature(type.slice(1, -1)).map((field) => this.read(field));
      }
      default:
        throw new SecretServiceReadError(`unsupported D-Bus type ${type}`);
    }
  }
}

// ---------------------------------------------------------------- messages

const METHOD_CALL = 1;
const METHOD_RETURN = 2;
const ERROR = 3;

interface Call {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: DBusValue[];
}

interface Reply {
  type: number;
  replySerial: number | undefined;
  errorName: string | undefined;
  body: DBusValue[];
}

/** @internal One METHOD_CALL message, little-endian. */
export function encodeCall(call: Call, serial: number): Uint8Array {
  const body = new Writer();
  const signature = call.signature ?? "";
  splitSignature(signature).forEach((type, index) => {
    body.write(type, call.body?.[index] as DBusValue);
  });
  const fields: DBusValue[] = [
    [1, { signature: "o", value: call.path }],
    [2, { signature: "s", value: call.interface }],
    [3, { signature: "s", value: call.member }],
    [6, { signature: "s", value: call.destination }],
  ];
  if (signature !== "") fields.push([8, { signature: "g", value: signature }]);
  const message = new Writer();
  message.u8("l".charCodeAt(0));
  message.u8(METHOD_CALL);
  message.u8(0);
  message.u8(1);
  message.u32(body.length);
  message.u32(serial);
  message.write("a(yv)", fields);
  message.align(8);
  message.bytes(body.result());
  return message.result();
}

/** @internal The length of the first complete message in `data`, or 0 when it is not all there. */
export function messageLength(data: Uint8Array): number {
  if (data.length < 16) return 0;
  const little = data[0] === 0x6c;
  if (!little && data[0] !== 0x42) throw new SecretServiceReadError("bad D-Bus endianness");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bodyLength = view.getUint32(4, little);
  const fieldsLength = view.getUint32(12, little);
  const headerLength = 16 + fieldsLength + ((8 - ((16 + fieldsLength) % 8)) % 8);
  const total = headerLength + bodyLength;
  if (total > 64 * 1024 * 1024) throw new SecretServiceReadError("D-Bus message too long");
  return data.length >= total ? total : 0;
}

/** @internal Decodes one complete message. */
export function decodeMessage(data: Uint8Array): Reply {
  const little = data[0] === 0x6c;
  const reader = new Reader(data, little, 12);
  const type = data[1] as number;
  const fields = reader.read("a(yv)") as DBusValue[][];
  let replySerial: number | undefined;
  let errorName: string | undefined;
  let signature = "";
  for (const [code, variant] of fields as [number, Variant][]) {
    if (code === 5) replySerial = variant.value as number;
    else if (code === 4) errorName = variant.value as string;
    else if (code === 8) signature = variant.value as string;
  }
  reader.align(8);
  const body = splitSignature(signature).map((field) => reader.read(field));
  return { type, replySerial, errorName, body };
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
