/**
 * What every handler receives: the server's configuration, state, keys and faults, plus the log
 * context of the request being answered. Handlers are plain functions of (context, Request).
 */
import type { FakeFaultName, FakeFaultSpec } from "../faults.js";
import type { SigningKey } from "../tokens.js";
import type { FakeConfig } from "./config.js";
import type { FaultStore, LogContext } from "./fault-store.js";
import type { FakeState } from "./state.js";

/** The signing keys: the active one, those published in the JWKS, and every key ever made. */
export interface KeyRing {
  active: SigningKey;
  published: SigningKey[];
  /** Every key ever created, by kid: access tokens stay verifiable after a rotation. */
  readonly all: Map<string, SigningKey>;
}

/** The server-wide part of a context. */
export interface ServerContext {
  readonly config: FakeConfig;
  readonly state: FakeState;
  readonly keys: KeyRing;
  readonly faults: FaultStore;
}

/** The context of one request. */
export interface RequestContext extends ServerContext {
  readonly log: LogContext;
}

/** An endpoint: a plain function of the context and the request. */
export type Handler = (context: RequestContext, request: Request) => Promise<Response> | Response;

/** The current time in whole seconds. */
export function nowSeconds(context: ServerContext): number {
  return Math.floor(context.config.now() / 1000);
}

/** Consumes one use of the fault `name` if it is on; whether it was. */
export function take(context: RequestContext, name: FakeFaultName): boolean {
  return context.faults.take(context.log, name);
}

/** Consumes one use of the first fault accepted by `match`. */
export function takeFault(
  context: RequestContext,
  match: (name: FakeFaultName) => boolean,
): FakeFaultSpec | undefined {
  return context.faults.takeFirst(context.log, match);
}

/** A copy of the claims of user `sub`. */
export function userClaims(context: ServerContext, sub: string): Record<string, unknown> {
  return { ...(context.config.users.get(sub)?.claims ?? {}) };
}

/** The media type of a request body, lower case, without parameters. */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
