import { describe, expect, it } from "vitest";
import { stateSizes } from "../src/fake/inspect.js";
import { createFakeAuthorizationServer, type FakeAuthorizationServer } from "../src/index.js";
import { authorizeOk, exchange, newPkce, refresh } from "./helpers.js";

// Issue 13 point 16 / issue 14 point 1: the request log and the code and token tables used to grow
// without bound (+277 MB after 40,000 requests). Entries are now capped and expire. Counted, not timed.

async function login(
  fake: FakeAuthorizationServer,
  scope = "openid offline_access",
): Promise<string> {
  const { body } = await exchange(fake, await authorizeOk(fake, { scope }));
  if (body.refresh_token === undefined) {
    throw new Error(`no refresh token: ${JSON.stringify(body)}`);
  }
  return body.refresh_token;
}

const jwks = (fake: FakeAuthorizationServer): Promise<Response> =>
  fake.fetch(new Request(fake.endpoints.jwks));

describe("bounded state", () => {
  it("the request log keeps the newest 1000 entries by default", async () => {
    const fake = await createFakeAuthorizationServer({ issuer: "http://127.0.0.1:1" });
    for (let index = 0; index < 1_050; index += 1) {
      await jwks(fake);
    }
    await fake.fetch(new Request(fake.endpoints.openidConfiguration));
    expect(fake.requests).toHaveLength(1_000);
    expect(fake.requests.at(-1)?.endpoint).toBe("discovery");
    expect(fake.count("jwks")).toBe(999);
  });

  it("maxLogEntries caps the log, oldest out first; the array stays the same one", async () => {
    const fake = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:1",
      maxLogEntries: 3,
    });
    const log = fake.requests;
    await fake.fetch(new Request(fake.endpoints.openidConfiguration));
    for (let index = 0; index < 5; index += 1) {
      await jwks(fake);
    }
    expect(fake.requests).toBe(log);
    expect(log.map((entry) => entry.endpoint)).toEqual(["jwks", "jwks", "jwks"]);
    await expect(
      createFakeAuthorizationServer({ issuer: "http://127.0.0.1:1", maxLogEntries: 0 }),
    ).rejects.toThrow(RangeError);
  });

  it("1,100 logins leave no table above 1000 entries", async () => {
    const fake = await createFakeAuthorizationServer({ issuer: "http://127.0.0.1:1" });
    for (let index = 0; index < 1_100; index += 1) {
      await login(fake, "offline_access");
    }
    const sizes = stateSizes(fake);
    for (const [table, size] of Object.entries(sizes)) {
      expect(size, table).toBeLessThanOrEqual(1_000);
    }
    expect(sizes.codes).toBe(1_000);
    expect(sizes.refreshTokens).toBe(1_000);
    expect(sizes.requests).toBe(1_000);
  });

  it("maxStateEntries: the oldest grant is forgotten first, the newest still refreshes", async () => {
    const fake = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:1",
      maxStateEntries: 3,
    });
    const first = await login(fake);
    let newest = first;
    for (let index = 0; index < 3; index += 1) {
      newest = await login(fake);
    }
    const forgotten = await refresh(fake, first);
    expect(forgotten.response.status).toBe(400);
    expect(forgotten.body.error).toBe("invalid_grant");
    const kept = await refresh(fake, newest);
    expect(kept.response.status).toBe(200);
    expect(stateSizes(fake).families).toBeLessThanOrEqual(3);
  });

  it("codes, access tokens, device codes and pushed requests expire: the next request sweeps them", async () => {
    let clock = 1_700_000_000_000;
    const fake = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:1",
      accessTokenTtlSeconds: 60,
      now: () => clock,
    });
    await login(fake);
    await authorizeOk(fake);
    const device = await fake.fetch(
      new Request(fake.endpoints.deviceAuthorization, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "client_id=latchkey",
      }),
    );
    expect(device.status).toBe(200);
    const before = stateSizes(fake);
    expect([before.codes, before.accessTokens, before.devicesByCode]).toEqual([2, 1, 1]);
    // Past every lifetime and grace period (a code: 60 s + 600 s; a device code: 600 s + 600 s).
    clock += 1_300_000;
    await jwks(fake);
    const after = stateSizes(fake);
    expect([after.codes, after.accessTokens, after.devicesByCode, after.devicesByUserCode]).toEqual(
      [0, 0, 0, 0],
    );
  });

  it("a login page expires after an hour and a session after a day (interactive)", async () => {
    let clock = 1_700_000_000_000;
    const fake = await createFakeAuthorizationServer({
      issuer: "http://127.0.0.1:1",
      interactive: true,
      now: () => clock,
    });
    const authorize = (params: Record<string, string>, cookie = ""): Promise<Response> => {
      const url = new URL(fake.endpoints.authorization);
      for (const [name, value] of Object.entries({
        response_type: "code",
        client_id: "latchkey",
        redirect_uri: "http://127.0.0.1:49152/callback",
        code_challenge: newPkce().challenge,
        code_challenge_method: "S256",
        ...params,
      })) {
        url.searchParams.set(name, value);
      }
      return fake.fetch(new Request(url, { headers: cookie === "" ? {} : { cookie } }));
    };
    const submit = (interaction: string): Promise<Response> =>
      fake.fetch(
        new Request("http://127.0.0.1:1/login", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ interaction, login: "alice", action: "approve" }),
        }),
      );
    const interactionOf = async (page: Response): Promise<string> =>
      /name="interaction" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";

    const stale = await interactionOf(await authorize({}));
    expect(stateSizes(fake).interactions).toBe(1);
    clock += 3_601_000;
    expect((await submit(stale)).status).toBe(400);
    expect(stateSizes(fake).interactions).toBe(0);

    const login = await submit(await interactionOf(await authorize({})));
    expect(login.status).toBe(303);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect((await authorize({ prompt: "none" }, cookie)).status).toBe(302);
    clock += 24 * 3_600_000 + 1_000;
    const expired = await authorize({ prompt: "none" }, cookie);
    expect(new URL(expired.headers.get("location") ?? "").searchParams.get("error")).toBe(
      "login_required",
    );
    expect(stateSizes(fake).sessions).toBe(0);
  });
});
