import {
  type Credentials,
  ErrorCode,
  parseStoredCredentials,
  StoreError,
} from "@latchkey/core/store";

// How a record is laid out in keyring entries: the main entry holds the record, or a header
// naming the chunk entries written before it (keyring.ts).

/** The header of a chunked record: `latchkey-chunks/1 <count> <generation> <sha256>`. */
export const HEADER_PREFIX = "latchkey-chunks/1 ";
const HEADER_PATTERN = /^latchkey-chunks\/1 ([1-9][0-9]{0,4}) ([0-9a-f]{16}) ([0-9a-f]{64})$/;
/** A header is at most this long, so the smallest entry limit must hold it. */
export const MIN_ENTRY_LENGTH = 256;

/** What a chunk header says. */
export interface ChunkHeader {
  count: number;
  generation: string;
  digest: string;
}

export function chunkAccount(account: string, generation: string, index: number): string {
  return `${account}#${generation}/${index}`;
}

/** JSON-escapes every non-ASCII character, so that the record is ASCII and still the same JSON. */
export function toAscii(json: string): string {
  return json.replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The header a main entry holds, or undefined when it holds something else (a record). */
export function headerOf(main: string): ChunkHeader | undefined {
  const match = HEADER_PATTERN.exec(main);
  return match === null
    ? undefined
    : { count: Number(match[1]), generation: match[2] as string, digest: match[3] as string };
}

export function parseHeader(main: string, account: string): ChunkHeader {
  const header = headerOf(main);
  if (header === undefined) throw corrupt(account, "It is neither a record nor a chunk header.");
  return header;
}

export function parse(text: string, account: string): Credentials {
  try {
    return parseStoredCredentials(text);
  } catch (error) {
    throw corrupt(account, error instanceof Error ? error.message : "");
  }
}

export function corrupt(account: string, detail: string): StoreError {
  return new StoreError(
    ErrorCode.STORE_CORRUPT,
    `The keyring entry for ${account} cannot be read back.${detail === "" ? "" : ` ${detail}`} It was left in place: log in again to replace it, or delete it with latchkey logout.`,
  );
}
