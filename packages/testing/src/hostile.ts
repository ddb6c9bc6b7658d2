import { createServer, type Socket } from "node:net";
import { gzipSync } from "node:zlib";

/**
 * How a {@link HostileServer} answers a path. Every mode but `json` and `huge` keeps the
 * connection open without ever finishing its response: only the client giving up (or
 * {@link HostileServer.close}) ends it.
 */
export type HostileMode =
  /** A well-behaved JSON answer: `body` as JSON, HTTP `status` (default 200). */
  | { kind: "json"; body: unknown; status?: number }
  /** The status line, the headers (announcing 10 MB) and `body` (default `{"access_token":"`), then silence. */
  | { kind: "stall"; body?: string }
  /** The headers, `{`, then one space every `intervalMs` (default 50), forever. */
  | { kind: "trickle"; intervalMs?: number }
  /**
   * `json` (default `{}`) with `bytes` of whitespace (default 50 MB) before its closing brace:
   * valid JSON, streamed as fast as the client reads it (backpressure), then the response ends.
   */
  | { kind: "huge"; bytes?: number; json?: Record<string, unknown> }
  /**
   * `Content-Encoding: gzip`: the `huge` document of `bytes` (default 64 MB), compressed at
   * {@link HostileServer.route} time to about a thousandth of that, all sent at once; the
   * announced length is one byte more, so the response never ends.
   */
  | { kind: "gzip-bomb"; bytes?: number; json?: Record<string, unknown> };

/** One request a {@link HostileServer} answered, updated live. */
export interface HostileExchange {
  /** The request method, e.g. `POST`. */
  readonly method: string;
  /** The request path, without the query. */
  readonly path: string;
  /** How the path was answered (`json` with HTTP 404 for a path without a route). */
  readonly kind: HostileMode["kind"];
  /** Body bytes written so far, as sent (compressed for `gzip-bomb`). */
  readonly written: number;
  /** The body bytes the response would have had: `Infinity` for `stall` and `trickle`. */
  readonly total: number;
  /** Whether the whole response was written. */
  readonly ended: boolean;
  /** Settles when the connection closes: by the client, or by {@link HostileServer.close}. */
  readonly closed: Promise<void>;
}

/** A raw-socket HTTP/1.1 server on loopback that answers like a hostile authorization server. */
export interface HostileServer {
  /** The origin, e.g. `http://127.0.0.1:49152`: known once the port is bound. */
  readonly url: string;
  /** Every request answered so far, oldest first. */
  readonly exchanges: readonly HostileExchange[];
  /** Answers `path` (exact, query ignored) with `mode` from the next request on. */
  route(path: string, mode: HostileMode): void;
  /** The `index`-th request (default the first) to `path`: now, or when it arrives. */
  exchange(path: string, index?: number): Promise<HostileExchange>;
  /** Stops listening and closes every connection and timer. Idempotent. */
  close(): Promise<void>;
  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Route {
  mode: HostileMode;
  gzip?: Buffer;
}

interface LiveExchange {
  method: string;
  path: string;
  kind: HostileMode["kind"];
  written: number;
  total: number;
  ended: boolean;
  closed: Promise<void>;
}

const MB = 1024 * 1024;

/** `json` (default `{}`) serialised with `bytes` of spaces before its last character. */
function padded(json: Record<string, unknown> = {}, bytes: number): [string, number, string] {
  const text = JSON.stringify(json);
  return [text.slice(0, -1), bytes, text.slice(-1)];
}

function head(status: number, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${status === 200 ? "OK" : "Hostile"}\r\n${lines.join("")}\r\n`;
}

/**
 * Starts a {@link HostileServer} on `127.0.0.1`, port 0, with `routes` (more with
 * {@link HostileServer.route}). It parses requests itself (keep-alive included) and writes its
 * answers byte by byte on the socket, so it can do what no well-behaved HTTP server does:
 * stall after the headers, trickle a byte at a time, stream a huge body, or send a gzip bomb.
 *
 * @param routes - Path (exact, query ignored) → how to answer it.
 * @returns The listening server.
 *
 * @example
 * ```ts
 * await using server = await startHostileServer({ "/token": { kind: "stall" } });
 * const exchange = server.exchange("/token");
 * // ... point a client at `${server.url}/token`, let it time out ...
 * await (await exchange).closed; // the client gave up and closed the connection
 * ```
 */
export async function startHostileServer(
  routes: Record<string, HostileMode> = {},
): Promise<HostileServer> {
  const table = new Map<string, Route>();
  const exchanges: LiveExchange[] = [];
  const waiters: (() => void)[] = [];
  const sockets = new Set<Socket>();

  const route = (path: string, mode: HostileMode): void => {
    const entry: Route = { mode };
    if (mode.kind === "gzip-bomb") {
      const [start, bytes, end] = padded(mode.json, mode.bytes ?? 64 * MB);
      entry.gzip = gzipSync(
        Buffer.concat([Buffer.from(start), Buffer.alloc(bytes, 0x20), Buffer.from(end)]),
        { level: 9 },
      );
    }
    table.set(path, entry);
  };
  for (const [path, mode] of Object.entries(routes)) route(path, mode);

  /** Writes `data`; resolves false once the socket is gone, after a drain if it is full. */
  const write = (socket: Socket, data: string | Buffer): Promise<boolean> =>
    new Promise((resolve) => {
      if (socket.destroyed) return resolve(false);
      if (socket.write(data)) return resolve(true);
      const done = (): void => {
        socket.off("drain", done).off("close", done);
        resolve(!socket.destroyed);
      };
      socket.on("drain", done).on("close", done);
    });

  /** Answers one request; resolves true when the socket may carry another one. */
  async function answer(socket: Socket, exchange: LiveExchange, entry: Route): Promise<boolean> {
    const { mode } = entry;
    const json = { "content-type": "application/json" };
    switch (mode.kind) {
      case "json": {
        const body = Buffer.from(JSON.stringify(mode.body));
        exchange.total = body.length;
        await write(
          socket,
          head(mode.status ?? 200, { ...json, "content-length": body.length }) + body,
        );
        exchange.written = body.length;
        exchange.ended = true;
        return true;
      }
      case "stall": {
        const body = mode.body ?? '{"access_token":"';
        await write(socket, head(200, { ...json, "content-length": 10 * MB }) + body);
        exchange.written = Buffer.byteLength(body);
        return false;
      }
      case "trickle": {
        await write(socket, `${head(200, { ...json, "content-length": 10 * MB })}{`);
        exchange.written = 1;
        const timer = setInterval(() => {
          socket.write(" ");
          exchange.written++;
        }, mode.intervalMs ?? 50);
        socket.on("close", () => clearInterval(timer));
        return false;
      }
      case "huge": {
        const [start, bytes, end] = padded(mode.json, mode.bytes ?? 50 * MB);
        exchange.total = Buffer.byteLength(start) + bytes + Buffer.byteLength(end);
        if (
          !(await write(socket, head(200, { ...json, "content-length": exchange.total }) + start))
        )
          return false;
        exchange.written = Buffer.byteLength(start);
        const spaces = Buffer.alloc(64 * 1024, 0x20);
        for (let left = bytes; left > 0; left -= spaces.length) {
          const chunk = left < spaces.length ? spaces.subarray(0, left) : spaces;
          if (!(await write(socket, chunk))) return false;
          exchange.written += chunk.length;
        }
        if (!(await write(socket, end))) return false;
        exchange.written = exchange.total;
        exchange.ended = true;
        return true;
      }
      case "gzip-bomb": {
        const body = entry.gzip as Buffer;
        exchange.total = body.length + 1;
        const headers = { ...json, "content-encoding": "gzip", "content-length": body.length + 1 };
        await write(socket, head(200, headers));
        if (await write(socket, body)) exchange.written = body.length;
        return false;
      }
    }
  }

  const server = createServer((socket) => {
    sockets.add(socket);
    const closed = new Promise<void>((resolve) => socket.on("close", resolve));
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = Buffer.alloc(0);
    let busy = false;
    const next = async (): Promise<void> => {
      while (!busy) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const lines = buffered.subarray(0, end).toString("latin1").split("\r\n");
        const length = Number(/^content-length:\s*(\d+)/im.exec(lines.join("\n"))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.subarray(end + 4 + length);
        const [method = "GET", target = "/"] = (lines[0] ?? "").split(" ");
        const path = target.split("?")[0] ?? "/";
        const entry = table.get(path) ?? {
          mode: { kind: "json", status: 404, body: { error: "not_found" } },
        };
        const exchange: LiveExchange = {
          method,
          path,
          kind: entry.mode.kind,
          written: 0,
          total: Number.POSITIVE_INFINITY,
          ended: false,
          closed,
        };
        exchanges.push(exchange);
        for (const wake of waiters.splice(0)) wake();
        busy = true;
        const reusable = await answer(socket, exchange, entry);
        if (!reusable) return;
        busy = false;
      }
    };
    socket.on("data", (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      void next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  return {
    url,
    exchanges,
    route,
    exchange(path: string, index = 0): Promise<HostileExchange> {
      return new Promise((resolve) => {
        const look = (): void => {
          const found = exchanges.filter((exchange) => exchange.path === path)[index];
          if (found) resolve(found);
          else waiters.push(look);
        };
        look();
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
