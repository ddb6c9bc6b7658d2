import {
  type CredentialKey,
  type Credentials,
  ErrorCode,
  LoginRequiredError,
  type TokenStore,
} from "@latchkey/core/store";
import type { CommonFlags } from "./config.js";
import { openStore } from "./open-store.js";
import type { Output } from "./output.js";
import { printable } from "./output.js";
import { loadProfile } from "./profile.js";
import { type CredentialsSummary, summarize } from "./summary.js";

/** What `status --all` reads: the store flags, and where the output goes. */
export interface StatusAllContext {
  env: Readonly<Record<string, string | undefined>>;
  out: Output;
}

type Kind = "auto" | "keyring" | "file" | "memory";

/** The stores to list: `auto` lists both the keyring (when usable) and the file store. */
async function stores(
  kind: Kind,
  directory: string | undefined,
  ctx: StatusAllContext,
): Promise<TokenStore[]> {
  const kinds: ("keyring" | "file")[] =
    kind === "auto" ? ["keyring", "file"] : kind === "memory" ? [] : [kind];
  const opened: TokenStore[] = [];
  for (const each of kinds) {
    try {
      opened.push(await openStore({ kind: each, directory, env: ctx.env }, ctx.out));
    } catch (error) {
      // `auto` lists what it can; an explicit --store that cannot be opened is an error.
      if (kind !== "auto") throw error;
      ctx.out.debug(`the ${each} store cannot be listed: ${(error as Error).message}`);
    }
  }
  return opened;
}

/** One stored credential set, with the kind of store it is in. */
export interface ListedCredentials {
  key: CredentialKey;
  credentials: Credentials;
  store: string;
}

/**
 * Every credential set stored in the stores `--store` names (`auto`: the keyring when usable,
 * and the file store). An explicit store that cannot be opened throws.
 */
export async function listStored(
  kind: Kind,
  directory: string | undefined,
  ctx: StatusAllContext,
): Promise<ListedCredentials[]> {
  const found: ListedCredentials[] = [];
  for (const store of await stores(kind, directory, ctx)) {
    if (!store.list) continue;
    for (const entry of await store.list()) found.push({ ...entry, store: store.kind });
  }
  return found;
}

function line(summary: CredentialsSummary): string {
  const rows: [string, string][] = [
    ["Issuer", summary.issuer],
    ["Client", summary.client_id],
  ];
  if (summary.subject !== undefined) rows.push(["Subject", summary.subject]);
  const expiry =
    summary.expires_at === undefined
      ? "unknown (the server gave no lifetime)"
      : summary.expires_in
        ? `${summary.expires_at} (in ${Math.round(summary.expires_in / 60)} min)`
        : `${summary.expires_at} (expired${summary.has_refresh_token ? "; a refresh token is stored" : ""})`;
  rows.push(["Expires", expiry]);
  const head = `Profile ${printable(summary.profile)} (${summary.store} store)`;
  return [
    head,
    ...rows.map(([label, value]) => `  ${`${label}:`.padEnd(9)}${printable(value)}`),
  ].join("\n");
}

/**
 * `latchkey status --all`: every stored credential set of every store in use (profile, issuer,
 * client, subject, expiry, store), like `gh auth status`; a JSON array with `--json`. Never a
 * token. Needs no --issuer or --client-id. Exit 4 when nothing is stored.
 */
export async function runStatusAll(
  flags: CommonFlags & { json?: boolean },
  ctx: StatusAllContext,
): Promise<void> {
  // The store settings of the config file's profile count, as for every command.
  const profile = (await loadProfile(ctx.env, flags.profile ?? "default")) ?? {};
  const kind = (flags.store ?? profile.store ?? "auto") as Kind;
  const directory = flags.storeDir ?? (profile.storeDir as string | undefined);
  const found = await listStored(kind, directory, ctx);
  const now = Date.now();
  const summaries = found
    .map(({ key, credentials, store }) =>
      summarize(credentials, {
        profile: key.profile,
        issuer: key.issuer,
        clientId: key.clientId,
        store,
        now,
      }),
    )
    .sort((a, b) =>
      `${a.profile}\u0000${a.issuer}\u0000${a.client_id}`.localeCompare(
        `${b.profile}\u0000${b.issuer}\u0000${b.client_id}`,
      ),
    );
  if (flags.json) ctx.out.data(JSON.stringify(summaries));
  else if (summaries.length) ctx.out.data(summaries.map(line).join("\n\n"));
  if (!summaries.length)
    throw new LoginRequiredError(ErrorCode.LOGIN_REQUIRED, "Not logged in: nothing is stored.");
}
