/** What {@link FakeAuthorizationServer.issueTokens} mints. */
export interface FakeIssueTokensOptions {
  /** The user the tokens are for: one of `users`, or the client itself. Default: the server's `subject`. */
  subject?: string;
  /** Space-separated scope; with `openid` an ID token comes too. Default: none. */
  scope?: string;
  /** The client they are issued to (a registered one). Default: the first registered client. */
  clientId?: string;
  /** Issue a refresh token. Default `true`. */
  refreshToken?: boolean;
  /** The `nonce` of the ID token. Default: none. */
  nonce?: string;
}

/** A token response, as the token endpoint would send it. */
export interface FakeTokenResponse {
  /** The access token: an RFC 9068 `at+jwt` JWT signed by the server. */
  access_token: string;
  /** Always `Bearer`. */
  token_type: "Bearer";
  /** Lifetime of the access token, in seconds. */
  expires_in: number;
  /** The granted scope, when there is one. */
  scope?: string;
  /** A refresh token, unless none was asked for. */
  refresh_token?: string;
  /** A signed ID token, when the scope holds `openid`. */
  id_token?: string;
}

/** {@link FakeIssueTokensOptions} with its defaults applied and checked. */
export interface IssueTokensRequest {
  readonly subject: string;
  readonly scope: string;
  readonly clientId: string;
  readonly refreshToken: boolean;
  readonly nonce: string | undefined;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Applies the defaults of {@link FakeIssueTokensOptions} and checks them against the server.
 *
 * @param options - What the test asked for.
 * @param server - The server's default subject and client, and who is registered.
 * @returns The request to mint.
 * @throws TypeError for an unknown client or subject, or a malformed scope.
 */
export function issueTokensRequest(
  options: FakeIssueTokensOptions,
  server: {
    subject: string;
    clientIds: readonly string[];
    hasUser: (subject: string) => boolean;
  },
): IssueTokensRequest {
  const clientId = options.clientId ?? server.clientIds[0] ?? "";
  if (!server.clientIds.includes(clientId)) {
    throw new TypeError(`issueTokens: unknown client "${clientId}"`);
  }
  const subject = options.subject ?? server.subject;
  if (!server.hasUser(subject) && subject !== clientId) {
    throw new TypeError(`issueTokens: unknown subject "${subject}" (add it to users)`);
  }
  const scope = options.scope ?? "";
  if (scope !== "" && !scope.split(" ").every((token) => SCOPE_TOKEN.test(token))) {
    throw new TypeError(`issueTokens: malformed scope "${scope}"`);
  }
  return {
    subject,
    scope,
    clientId,
    refreshToken: options.refreshToken ?? true,
    nonce: options.nonce,
  };
}
