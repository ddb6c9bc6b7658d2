#!/usr/bin/env node
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { clientsFromArgs, UsageError } from "./bin-clients.js";
import { type FakeFaultSpec, fakeFaultCatalogue, isFakeFaultName } from "./faults.js";
import { startFakeAuthorizationServer } from "./listener.js";
import type { FakeUser } from "./server.js";

const USAGE = `Usage: latchkey-fake-idp [options]

Starts a strict fake OAuth 2.0 / OpenID Connect authorization server on loopback and prints one
JSON line on stdout ({"issuer", "clients", "endpoints"}, plus "certificate" with --https) once it
listens. Runs until SIGINT/SIGTERM. A closed reader of stdout (e.g. | head -1) ends it with exit 0.

Options:
  --host HOST               address to bind (default 127.0.0.1; ::1 for IPv6)
  --port N                  port to bind (default 0: ephemeral)
  --issuer-path PATH        issuer path, e.g. /tenant-a (default none)
  --client ID[:SECRET]      register another client (repeatable); with a secret it uses
                            client_secret_basic. The public client "latchkey" is always present.
  --redirect-uri URI        register a redirect URI (repeatable) for the --client just before it,
                            or for "latchkey" when none is, e.g. http://localhost:5173/ for a SPA;
                            added to the loopback /callback URIs every client has
  --access-token-ttl SECS   access and ID token lifetime (default 3600)
  --subject SUB             the user every login is approved as (default alice)
  --no-rotation             keep refresh tokens valid instead of rotating them
  --users-file PATH         JSON users by subject: {"alice": {"claims": {"email": "..."}}}
  --access-token-user-claims
                            put the user's claims in access tokens too (RFC 9068 at+jwt, next to
                            iss, sub, aud, exp, iat, jti, client_id and scope)
  --signing-alg ALG         ES256 (default) or RS256
  --id-token-ttl SECS       ID token lifetime (default: the access token lifetime)
  --code-ttl SECS           authorization code lifetime, at most 600 (default 60)
  --allow-plain-pkce        accept code_challenge_method=plain as well as S256
  --interactive             show an HTML login and consent page instead of auto-approving
  --require-par             refuse authorization requests that were not pushed (RFC 9126)
  --device-auto-approve     approve device authorizations at once
  --device-interval SECS    device polling interval (default 5)
  --device-code-ttl SECS    device code lifetime (default 600)
  --https                   serve HTTPS with a generated self-signed certificate (needs openssl);
                            its PEM is the "certificate" field of the JSON line
  --fault NAME[:TIMES]      switch a fault on, for TIMES uses or for good (repeatable, in order);
                            NAME:TIMES:MS sets delayMs for *:delay, NAME:TIMES:STATUS the status
                            of *:5xx. --list-faults shows them all
  --list-faults             print the fault catalogue (one JSON object a line) and exit
  --help                    show this help
`;

/** What to do when stdout's reader has gone (EPIPE); set once the server runs. */
let onReaderGone = (): void => {};

/**
 * A reader that closed its end (`| head -1`) ends the output, and the bin, quietly with exit 0,
 * like any Unix filter, instead of an unhandled `EPIPE` error and its stack trace.
 */
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") {
    throw error;
  }
  onReaderGone();
});

function integer(flag: string, value: string, min: number, max: number): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

function parseFault(value: string): FakeFaultSpec {
  // Fault names contain one colon themselves: NAME is the first two parts.
  const [kind = "", what = "", times, extra, ...rest] = value.split(":");
  const name = `${kind}:${what}`;
  if (!isFakeFaultName(name) || rest.length > 0) {
    throw new UsageError(`--fault: unknown fault "${value}" (see --list-faults)`);
  }
  const spec: FakeFaultSpec = { name };
  if (times !== undefined && times !== "") {
    spec.times = integer("--fault TIMES", times, 1, 1_000_000);
  }
  if (extra !== undefined) {
    if (name.endsWith(":delay")) {
      spec.delayMs = integer("--fault MS", extra, 0, 600_000);
    } else if (name.endsWith(":5xx")) {
      spec.status = integer("--fault STATUS", extra, 500, 599);
    } else {
      throw new UsageError(`--fault ${name} takes no third part`);
    }
  }
  return spec;
}

async function readUsers(path: string): Promise<Record<string, FakeUser>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(
      `--users-file: cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError("--users-file must hold a JSON object of users by subject");
  }
  const users: Record<string, FakeUser> = {};
  for (const [sub, user] of Object.entries(parsed)) {
    const claims = (user as { claims?: unknown } | null)?.claims;
    if (
      typeof user !== "object" ||
      user === null ||
      (claims !== undefined && (typeof claims !== "object" || claims === null))
    ) {
      throw new UsageError(`--users-file: user "${sub}" must be {"claims": {...}}`);
    }
    users[sub] = claims === undefined ? {} : { claims: claims as Record<string, unknown> };
  }
  return users;
}

function seconds(flag: string, value: string | undefined, max: number): number | undefined {
  return value === undefined ? undefined : integer(flag, value, 1, max);
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      tokens: true,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "issuer-path": { type: "string" },
        client: { type: "string", multiple: true },
        "redirect-uri": { type: "string", multiple: true },
        "access-token-ttl": { type: "string" },
        "access-token-user-claims": { type: "boolean" },
        subject: { type: "string" },
        "no-rotation": { type: "boolean" },
        "users-file": { type: "string" },
        "signing-alg": { type: "string" },
        "id-token-ttl": { type: "string" },
        "code-ttl": { type: "string" },
        "allow-plain-pkce": { type: "boolean" },
        interactive: { type: "boolean" },
        "require-par": { type: "boolean" },
        "device-auto-approve": { type: "boolean" },
        "device-interval": { type: "string" },
        "device-code-ttl": { type: "string" },
        https: { type: "boolean" },
        fault: { type: "string", multiple: true },
        "list-faults": { type: "boolean" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<void> {
  const { values, tokens } = parse(process.argv.slice(2));
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  if (values["list-faults"] === true) {
    process.stdout.write(fakeFaultCatalogue.map((fault) => `${JSON.stringify(fault)}\n`).join(""));
    return;
  }
  const signingAlg = values["signing-alg"];
  if (signingAlg !== undefined && signingAlg !== "ES256" && signingAlg !== "RS256") {
    throw new UsageError(`--signing-alg must be ES256 or RS256, got "${signingAlg}"`);
  }
  const faults = (values.fault ?? []).map(parseFault);
  const users =
    values["users-file"] === undefined ? undefined : await readUsers(values["users-file"]);
  const optional = {
    idTokenTtlSeconds: seconds("--id-token-ttl", values["id-token-ttl"], 31_536_000),
    codeTtlSeconds: seconds("--code-ttl", values["code-ttl"], 600),
    deviceIntervalSeconds: seconds("--device-interval", values["device-interval"], 3600),
    deviceCodeTtlSeconds: seconds("--device-code-ttl", values["device-code-ttl"], 86_400),
    signingAlg,
    users,
  };
  const issuerPath = values["issuer-path"] ?? "";
  if (issuerPath !== "" && !/^(\/[^/?#\s]+)+$/.test(issuerPath)) {
    throw new UsageError(
      `--issuer-path must look like /a/b (no trailing slash), got "${issuerPath}"`,
    );
  }
  const clients = clientsFromArgs(tokens);
  if (values.subject === "") {
    throw new UsageError("--subject must not be empty");
  }

  const server = await startFakeAuthorizationServer({
    host: values.host ?? "127.0.0.1",
    port: values.port === undefined ? 0 : integer("--port", values.port, 0, 65_535),
    issuerPath,
    clients,
    refreshTokenRotation: values["no-rotation"] !== true,
    ...(values["access-token-ttl"] === undefined
      ? {}
      : {
          accessTokenTtlSeconds: integer(
            "--access-token-ttl",
            values["access-token-ttl"],
            1,
            31_536_000,
          ),
        }),
    ...(values.subject === undefined ? {} : { subject: values.subject }),
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    faults,
    allowPlainPkce: values["allow-plain-pkce"] === true,
    accessTokenUserClaims: values["access-token-user-claims"] === true,
    interactive: values.interactive === true,
    requirePushedAuthorizationRequests: values["require-par"] === true,
    deviceAutoApprove: values["device-auto-approve"] === true,
    https: values.https === true,
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // Nobody can learn the issuer any more: the server is of no use.
  onReaderGone = stop;
  process.stdout.write(
    `${JSON.stringify({
      issuer: server.issuer,
      clients: server.clientIds,
      endpoints: server.endpoints,
      ...(server.certificate === undefined ? {} : { certificate: server.certificate }),
    })}\n`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`latchkey-fake-idp: ${error.message}\nTry --help.\n`);
    process.exit(2);
  }
  process.stderr.write(
    `latchkey-fake-idp: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
