import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "../src/index.js";

const ISSUER = "http://127.0.0.1:9999/t";
const README = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");

async function startDevice(server: FakeAuthorizationServer) {
  const response = await server.fetch(server.endpoints.deviceAuthorization, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: "latchkey", scope: "openid" }),
  });
  return (await response.json()) as { device_code: string; user_code: string };
}

function submit(server: FakeAuthorizationServer, fields: Record<string, string>) {
  return server.fetch(server.endpoints.deviceVerification, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
}

async function poll(server: FakeAuthorizationServer, deviceCode: string) {
  const response = await server.fetch(server.endpoints.token, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: deviceCode,
      client_id: "latchkey",
    }),
  });
  return (await response.json()) as { error?: string; access_token?: string };
}

/** The field names of the README's table of the device verification form. */
function documentedFields(): string[] {
  const table = README.slice(README.indexOf("| field "));
  return [...table.matchAll(/^\s*\| `([a-z_]+)` +\|/gm)].map((match) => match[1] ?? "");
}

// Issue 12 point 17: the device verification form's fields are documented, and work as documented.
describe("the device verification form", () => {
  it("the README documents exactly the fields the form posts", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER });
    const page = await (
      await server.fetch(`${server.endpoints.deviceVerification}?user_code=BCDF-GHJK`)
    ).text();
    const names = [...new Set([...page.matchAll(/ name="([^"]+)"/g)].map((match) => match[1]))];
    expect(documentedFields()).toEqual(names);
    expect(names).toEqual(["user_code", "login", "action"]);
    expect(page).toContain('value="BCDF-GHJK"');
    expect(page).toContain('name="action" value="approve"');
    expect(page).toContain('name="action" value="deny"');
  });

  it("user_code in any case without dashes, login picks the user, action=approve connects", async () => {
    const server = await createFakeAuthorizationServer({
      issuer: ISSUER,
      users: { alice: {}, bob: {} },
    });
    const { device_code, user_code } = await startDevice(server);
    const answer = await submit(server, {
      user_code: user_code.replace("-", "").toLowerCase(),
      login: "bob",
      action: "approve",
    });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain("Device connected");
    const tokens = await poll(server, device_code);
    expect(decodeJwt(tokens.access_token ?? "").sub).toBe("bob");
  });

  it("without login and action: approves as the server's subject", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER });
    const { device_code, user_code } = await startDevice(server);
    expect((await submit(server, { user_code })).status).toBe(200);
    expect(decodeJwt((await poll(server, device_code)).access_token ?? "").sub).toBe("alice");
  });

  it("action=deny refuses; an answered code, an unknown code or user give the form again with 400", async () => {
    const server = await createFakeAuthorizationServer({ issuer: ISSUER });
    const { device_code, user_code } = await startDevice(server);
    const unknownUser = await submit(server, { user_code, login: "mallory" });
    expect(unknownUser.status).toBe(400);
    expect(await unknownUser.text()).toContain("unknown user &#34;mallory&#34;");
    const denied = await submit(server, { user_code, action: "deny" });
    expect(await denied.text()).toContain("Request denied");
    expect((await poll(server, device_code)).error).toBe("access_denied");
    const again = await submit(server, { user_code });
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("already answered");
    expect((await submit(server, { user_code: "ZZZZ-ZZZZ" })).status).toBe(400);
  });
});
