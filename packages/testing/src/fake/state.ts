/**
 * Everything the fake server remembers between requests: codes, token families, refresh and
 * access tokens, device codes, pushed requests, login pages, sessions and the request log. Each
 * table is capped and its entries expire, so memory stays bounded however many logins it serves.
 */
import type { FakeConfig, RegisteredClient } from "./config.js";
import { MAX_CODE_TTL_SECONDS } from "./config.js";
import { ExpiringTable } from "./table.js";
import type { FakeRequestLogEntry } from "./types.js";

/** A validated authorization request, waiting for approval. */
export interface AuthorizationRequest {
  readonly client: RegisteredClient;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: "S256" | "plain";
  readonly scope: string;
  readonly nonce: string | undefined;
  readonly loginHint: string | undefined;
  readonly prompt: readonly string[];
  readonly maxAge: number | undefined;
}

export interface CodeRecord {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: "S256" | "plain";
  readonly scope: string;
  readonly nonce: string | undefined;
  readonly subject: string;
  readonly authTime: number;
  readonly expiresAtMs: number;
  used: boolean;
  familyId: string | undefined;
}

/** Everything issued from one grant: revoked together (S2 replay, S3 reuse, revocation). */
export interface TokenFamily {
  readonly id: string;
  readonly clientId: string;
  readonly subject: string;
  readonly scope: string;
  readonly authTime: number;
  revoked: boolean;
}

export interface RefreshRecord {
  readonly familyId: string;
  readonly clientId: string;
  consumed: boolean;
}

export interface AccessRecord {
  readonly familyId: string;
  readonly clientId: string;
  revoked: boolean;
}

export interface DeviceRecord {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly clientId: string;
  readonly scope: string;
  readonly expiresAtMs: number;
  intervalSeconds: number;
  lastPollMs: number | undefined;
  status: "pending" | "approved" | "denied" | "used";
  subject: string | undefined;
  authTime: number;
}

export interface PushedRequest {
  readonly clientId: string;
  readonly params: URLSearchParams;
  readonly expiresAtMs: number;
}

export interface Session {
  readonly subject: string;
  readonly authTime: number;
}

/** How long a code is remembered after it expired, so a late replay still revokes its tokens (S2). */
const CODE_GRACE_MS = MAX_CODE_TTL_SECONDS * 1000;
/** How long a login page can be answered. */
const INTERACTION_TTL_MS = 3600 * 1000;
/** How long a login session lasts. */
const SESSION_TTL_MS = 24 * 3600 * 1000;

/** The server's mutable state; every `remember*` call sets the entry's expiry. */
export class FakeState {
  readonly codes: ExpiringTable<string, CodeRecord>;
  readonly families: ExpiringTable<string, TokenFamily>;
  readonly refreshTokens: ExpiringTable<string, RefreshRecord>;
  /** Access token `jti` → record, so revoking a family also kills its access tokens. */
  readonly accessTokens: ExpiringTable<string, AccessRecord>;
  readonly devicesByCode: ExpiringTable<string, DeviceRecord>;
  /** By normalised user code. */
  readonly devicesByUserCode: ExpiringTable<string, DeviceRecord>;
  readonly pushedRequests: ExpiringTable<string, PushedRequest>;
  readonly interactions: ExpiringTable<string, AuthorizationRequest>;
  readonly sessions: ExpiringTable<string, Session>;
  /** The request log, oldest first, at most `maxLogEntries` long (the array handed to users). */
  readonly requests: FakeRequestLogEntry[] = [];
  readonly #config: FakeConfig;

  constructor(config: FakeConfig) {
    this.#config = config;
    const max = config.maxStateEntries;
    this.codes = new ExpiringTable(max);
    this.families = new ExpiringTable(max);
    this.refreshTokens = new ExpiringTable(max);
    this.accessTokens = new ExpiringTable(max);
    this.devicesByCode = new ExpiringTable(max);
    this.devicesByUserCode = new ExpiringTable(max);
    this.pushedRequests = new ExpiringTable(max);
    this.interactions = new ExpiringTable(max);
    this.sessions = new ExpiringTable(max);
  }

  rememberCode(code: string, record: CodeRecord): void {
    this.codes.set(code, record, record.expiresAtMs + CODE_GRACE_MS);
  }

  /** Families are kept (and refreshed as the newest) while tokens are issued from them. */
  rememberFamily(family: TokenFamily): void {
    this.families.set(family.id, family, Number.POSITIVE_INFINITY);
  }

  /** Refresh tokens do not expire; the oldest go when the table is full. */
  rememberRefreshToken(token: string, record: RefreshRecord): void {
    this.refreshTokens.set(token, record, Number.POSITIVE_INFINITY);
  }

  /** Until the access token expires: after that it is refused anyway. */
  rememberAccessToken(jti: string, record: AccessRecord, expiresAtMs: number): void {
    this.accessTokens.set(jti, record, expiresAtMs);
  }

  /** Kept one lifetime past expiry, so a late poll still gets `expired_token`. */
  rememberDevice(record: DeviceRecord, normalizedUserCode: string): void {
    const until = record.expiresAtMs + this.#config.deviceTtl * 1000;
    this.devicesByCode.set(record.deviceCode, record, until);
    this.devicesByUserCode.set(normalizedUserCode, record, until);
  }

  rememberPushedRequest(requestUri: string, record: PushedRequest): void {
    this.pushedRequests.set(requestUri, record, record.expiresAtMs);
  }

  rememberInteraction(id: string, pending: AuthorizationRequest): void {
    this.interactions.set(id, pending, this.#config.now() + INTERACTION_TTL_MS);
  }

  rememberSession(id: string, session: Session): void {
    this.sessions.set(id, session, this.#config.now() + SESSION_TTL_MS);
  }

  /** Appends to the request log, dropping the oldest entries beyond `maxLogEntries`. */
  log(entry: FakeRequestLogEntry): void {
    this.requests.push(entry);
    const excess = this.requests.length - this.#config.maxLogEntries;
    if (excess > 0) {
      this.requests.splice(0, excess);
    }
  }

  /** Drops every expired entry. */
  sweep(): void {
    const nowMs = this.#config.now();
    for (const table of [
      this.codes,
      this.accessTokens,
      this.devicesByCode,
      this.devicesByUserCode,
      this.pushedRequests,
      this.interactions,
      this.sessions,
    ]) {
      table.sweep(nowMs);
    }
  }

  /** How many entries each table holds (for tests and the memory bench). */
  sizes(): Readonly<Record<string, number>> {
    return {
      codes: this.codes.size,
      families: this.families.size,
      refreshTokens: this.refreshTokens.size,
      accessTokens: this.accessTokens.size,
      devicesByCode: this.devicesByCode.size,
      devicesByUserCode: this.devicesByUserCode.size,
      pushedRequests: this.pushedRequests.size,
      interactions: this.interactions.size,
      sessions: this.sessions.size,
      requests: this.requests.length,
    };
  }
}
