import { connect } from "node:net";
import type { AwaitingCallbackState } from "@latchkey/core";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one hand-made HTTP/1.1 request over a raw socket and parses the answer. */
export function raw(port: number, request: string, host = "127.0.0.1"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      data += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const [head = "", ...rest] = data.split("\r\n\r\n");
      const [statusLine = "", ...headerLines] = head.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const i = line.indexOf(":");
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    });
    socket.write(
      request.includes("Connection:")
        ? request
        : request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
    );
  });
}

export function get(
  port: number,
  path: string,
  extraHeaders: Record<string, string> = {},
  host = `127.0.0.1:${port}`,
): Promise<RawResponse> {
  const headers = Object.entries({ Host: host, ...extraHeaders })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  return raw(port, `GET ${path} HTTP/1.1\r\n${headers}\r\n`);
}

export function waitingState(
  redirectUri: string,
  overrides: Partial<AwaitingCallbackState> = {},
): AwaitingCallbackState {
  return {
    status: "awaiting-callback",
    expectedIssuer: "https://as.example",
    issRequired: true,
    clientId: "latchkey",
    redirectUri,
    state: "the-state-value",
    codeVerifier: "v".repeat(43),
    startedAt: 0,
    ...overrides,
  };
}
