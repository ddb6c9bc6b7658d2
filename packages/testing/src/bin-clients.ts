import { defaultFakeClient, type FakeClient } from "./server.js";

/** A bad command line: the bin prints the message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** An option of `parseArgs(..., tokens: true)`, as far as this module reads it. */
export interface OptionToken {
  readonly kind: string;
  readonly name?: string;
  readonly value?: string | undefined;
}

function parseClient(value: string): FakeClient {
  const colon = value.indexOf(":");
  const clientId = colon < 0 ? value : value.slice(0, colon);
  const secret = colon < 0 ? undefined : value.slice(colon + 1);
  if (clientId === "" || secret === "") {
    throw new UsageError(`--client expects ID or ID:SECRET, got "${value}"`);
  }
  return secret === undefined
    ? { clientId, tokenEndpointAuthMethod: "none" }
    : { clientId, clientSecret: secret, tokenEndpointAuthMethod: "client_secret_basic" };
}

/**
 * The clients of `--client ID[:SECRET]` and `--redirect-uri URI`, in command-line order: the
 * public client `latchkey` first, then each `--client`. A `--redirect-uri` registers one more
 * redirect URI for the client named just before it (`latchkey` when none is), in addition to the
 * three loopback `/callback` URIs every client has.
 *
 * @param tokens - The `tokens` of `parseArgs` with `tokens: true`.
 * @returns The clients to register.
 * @throws UsageError for a malformed client, a client given twice, or a redirect URI that is not
 * absolute, has a fragment, or is given twice for a client.
 */
export function clientsFromArgs(tokens: readonly OptionToken[]): FakeClient[] {
  const defaults = defaultFakeClient.redirectUris ?? [];
  const clients: FakeClient[] = [{ ...defaultFakeClient, redirectUris: [...defaults] }];
  for (const token of tokens) {
    if (token.kind !== "option" || token.value === undefined) {
      continue;
    }
    if (token.name === "client") {
      const client = parseClient(token.value);
      if (clients.some((existing) => existing.clientId === client.clientId)) {
        throw new UsageError(`client "${client.clientId}" is registered twice`);
      }
      clients.push({ ...client, redirectUris: [...defaults] });
    } else if (token.name === "redirect-uri") {
      const uri = token.value;
      const client = clients.at(-1);
      if (!URL.canParse(uri) || uri.includes("#")) {
        throw new UsageError(
          `--redirect-uri must be an absolute URI without fragment, got "${uri}"`,
        );
      }
      if (client?.redirectUris?.includes(uri) !== false) {
        throw new UsageError(
          `--redirect-uri "${uri}" is registered twice for "${client?.clientId}"`,
        );
      }
      client.redirectUris.push(uri);
    }
  }
  return clients;
}
