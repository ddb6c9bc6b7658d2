// A page in the user's browser (DNS rebinding) or a local process trying to starve the login
// port: requests that cannot be the callback must not use up the request budget, and idle
// connections must not keep the real callback out (S26).
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type CallbackServer, startCallbackServer } from "../src/index.js";
import { get, waitingState } from "./helpers.js";

const ISS = encodeURIComponent("https://as.example");
const VALID = `/callback?code=c&state=the-state-value&iss=${ISS}`;
const servers: CallbackServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close({ graceMs: 0 })));
});

async function start(): Promise<CallbackServer> {
  const server = await startCallbackServer({});
  servers.push(server);
  return server;
}

/** Opens a connection that sends nothing, and resolves once it is established. */
function idleConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.on("error", () => undefined);
    socket.once("error", reject);
    sockets.push(socket);
  });
}

describe("starving the callback server", () => {
  it("250 requests with a foreign Host or path leave the budget of 200 untouched", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    for (let i = 0; i < 250; i++) {
      const rebinding = await get(server.port, VALID, {}, `attacker.example:${server.port}`);
      expect(rebinding.status).toBe(400);
    }
    for (let i = 0; i < 50; i++) expect((await get(server.port, "/favicon.ico")).status).toBe(404);
    const ok = await get(server.port, VALID);
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
  });

  it("140 idle connections do not keep the browser's callback out", async () => {
    const server = await start();
    const pending = server.waitForCallback(waitingState(server.redirectUri));
    const idle: Socket[] = [];
    for (let i = 0; i < 140; i++) idle.push(await idleConnection(server.port));
    const ok = await get(server.port, VALID);
    expect(ok.status).toBe(303);
    await expect(pending).resolves.toMatchObject({ status: "code-received" });
    // The oldest idle connections were the ones closed to make room.
    const closed = idle.map((socket) => socket.destroyed || socket.readableEnded);
    expect(closed.slice(-100).every((c) => !c)).toBe(true);
  });
});
