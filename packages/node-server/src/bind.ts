import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigurationError, ErrorCode, LatchkeyError, TransportError } from "@latchkey/core";
import { NodeServerErrorCode } from "./errors.js";

/** A loopback address the callback server binds. */
export type Family = "127.0.0.1" | "::1";

/** The address as the authority of a URL: `[::1]` for IPv6. */
export function literal(address: Family): string {
  return address === "::1" ? "[::1]" : address;
}

/** The ports to try, in order; `CONFIG_INVALID` for an empty list or a number that is no port. */
export function checkPorts(port: number | readonly number[] | undefined): readonly number[] {
  const ports = port === undefined ? [0] : typeof port === "number" ? [port] : port;
  if (ports.length === 0) {
    throw new ConfigurationError(ErrorCode.CONFIG_INVALID, "The list of callback ports is empty.");
  }
  for (const p of ports) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      throw new ConfigurationError(
        ErrorCode.CONFIG_INVALID,
        `The callback port must be an integer from 0 to 65535 (got ${String(p).slice(0, 20)}).`,
      );
    }
  }
  return ports;
}

/** What {@link bindAll} bound: one port, one server per address. */
export interface Bound {
  port: number;
  servers: Server[];
  addresses: Family[];
}

class PortBusy extends Error {}
class FamilyUnavailable extends ConfigurationError {
  constructor(message: string, cause: unknown) {
    super(ErrorCode.CONFIG_INVALID, message, { cause });
    this.name = "ConfigurationError";
  }
}

function closeServers(servers: readonly Server[]): Promise<void> {
  return Promise.all(
    servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  ).then(() => undefined);
}

/**
 * Binds every family on one port, trying the ports in order. With `optional` a family the
 * machine lacks (no IPv6, say) is skipped, but at least one must bind.
 */
export async function bindAll(
  makeServer: () => Server,
  families: readonly Family[],
  ports: readonly number[],
  optional: boolean,
): Promise<Bound> {
  const busy: number[] = [];
  for (const wanted of ports) {
    // An ephemeral port may be free on one family and not the other: retry a few times.
    for (let attempt = 0; attempt < (wanted === 0 ? 8 : 1); attempt++) {
      const servers: Server[] = [];
      const addresses: Family[] = [];
      let port = wanted;
      let unavailable: LatchkeyError | undefined;
      try {
        for (const family of families) {
          const server = makeServer();
          try {
            port = await listen(server, family, port);
            servers.push(server);
            addresses.push(family);
          } catch (error) {
            if (optional && error instanceof FamilyUnavailable) {
              unavailable = error;
              continue;
            }
            throw error;
          }
        }
      } catch (error) {
        await closeServers(servers);
        if (error instanceof PortBusy) {
          if (wanted === 0 && attempt < 7) continue;
          busy.push(wanted);
          break;
        }
        throw error;
      }
      if (servers.length === 0) {
        throw (
          unavailable ??
          new ConfigurationError(ErrorCode.CONFIG_INVALID, "No loopback address could be bound.")
        );
      }
      return { port, servers, addresses };
    }
  }
  const where = families.join(" and ");
  throw new LatchkeyError(
    NodeServerErrorCode.PORT_IN_USE,
    busy.length === 1
      ? `Port ${busy[0]} on ${where} is already in use; free it or choose another port (0 picks a free one).`
      : `Ports ${busy.join(", ")} on ${where} are all in use; free one of them or choose another port (0 picks a free one).`,
  );
}

function listen(server: Server, host: Family, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE") {
        reject(new PortBusy());
      } else if (error.code === "EADDRNOTAVAIL" || error.code === "EAFNOSUPPORT") {
        reject(
          new FamilyUnavailable(`Cannot bind ${host} on this machine (${error.code}).`, error),
        );
      } else if (error.code === "EACCES") {
        reject(
          new ConfigurationError(
            ErrorCode.CONFIG_INVALID,
            `Not allowed to bind port ${port} on ${host} (EACCES); use a port above 1023 or 0.`,
            { cause: error },
          ),
        );
      } else {
        reject(
          new TransportError(
            ErrorCode.NETWORK_ERROR,
            `Cannot listen on ${host} (${error.code ?? "error"}).`,
            { cause: error },
          ),
        );
      }
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host, port, exclusive: true, ipv6Only: host === "::1" });
  });
}
