#!/usr/bin/env node
import { parseArgs } from "node:util";
import { startFakeAuthorizationServer } from "./listener.js";
import { defaultFakeClient, type FakeClient } from "./server.js";

const USAGE = `Usage: latchkey-fake-idp [options]

Starts a strict fake OAuth 2.0 / OpenID Connect authorization server on loopback and prints one
JSON line on stdout ({"issuer", "clients", "endpoints"}) once it listens. Runs until SIGINT/SIGTERM.

Options:
  --host HOST               address to bind (default 127.0.0.1; ::1 for IPv6)
  --port N                  port to bind (default 0: ephemeral)
  --issuer-path PATH        issuer path, e.g. /tenant-a (default none)
  --client ID[:SECRET]      register another client (repeatable); with a secret it uses
                            client_secret_basic. The public client "latchkey" is always present.
  --access-token-ttl SECS   access and ID token lifetime (default 3600)
  --subject SUB             the user every login is approved as (default alice)
  --no-rotation             keep refresh tokens valid instead of rotating them
  --help                    show this help
`;

class UsageError extends Error {
  override name = "UsageError";
}

function integer(flag: string, value: string, min: number, max: number): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
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

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "issuer-path": { type: "string" },
        client: { type: "string", multiple: true },
        "access-token-ttl": { type: "string" },
        subject: { type: "string" },
        "no-rotation": { type: "boolean" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<void> {
  const { values } = parse(process.argv.slice(2));
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const issuerPath = values["issuer-path"] ?? "";
  if (issuerPath !== "" && !/^(\/[^/?#\s]+)+$/.test(issuerPath)) {
    throw new UsageError(
      `--issuer-path must look like /a/b (no trailing slash), got "${issuerPath}"`,
    );
  }
  const clients: FakeClient[] = [{ ...defaultFakeClient }];
  for (const value of values.client ?? []) {
    const client = parseClient(value);
    if (clients.some((existing) => existing.clientId === client.clientId)) {
      throw new UsageError(`client "${client.clientId}" is registered twice`);
    }
    clients.push(client);
  }
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
  process.stdout.write(
    `${JSON.stringify({ issuer: server.issuer, clients: server.clientIds, endpoints: server.endpoints })}\n`,
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
