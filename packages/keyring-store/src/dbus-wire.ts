// The D-Bus wire format, as much of it as the Secret Service reader needs (secret-service.ts):
// marshalling of the basic and container types, and method calls and their replies.

/** Why the fast read could not answer; the caller then reads through the keyring library. */
export class SecretServiceReadError extends Error {
  override name = "SecretServiceReadError";
}

// ---------------------------------------------------------------- marshalling (D-Bus spec)

export type DBusValue = string | number | boolean | bigint | Uint8Array | DBusValue[] | Variant;

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
export const METHOD_RETURN = 2;
export const ERROR = 3;

export interface Call {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: DBusValue[];
}

export interface Reply {
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
