import { request } from "node:https";
import { describe, expect, it } from "vitest";
import { startFakeAuthorizationServer } from "../src/index.js";

function get(url: string, ca: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, ca === undefined ? {} : { ca }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("S20: HTTPS listener", () => {
  it("S20: serves HTTPS with a generated certificate that clients can trust via `certificate`", async () => {
    await using server = await startFakeAuthorizationServer({ https: true });
    expect(server.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const { status, body } = await get(server.endpoints.openidConfiguration, server.certificate);
    expect(status).toBe(200);
    expect(JSON.parse(body).issuer).toBe(server.issuer);
    await expect(get(server.endpoints.jwks, undefined)).rejects.toThrow(/self-signed|certificate/);
  });

  it("S20: the certificate also covers localhost and ::1; an http server has no certificate", async () => {
    await using v6 = await startFakeAuthorizationServer({ https: true, host: "::1" });
    expect(v6.issuer).toMatch(/^https:\/\/\[::1\]:\d+$/);
    expect((await get(v6.endpoints.jwks, v6.certificate)).status).toBe(200);
    await using plain = await startFakeAuthorizationServer();
    expect(plain.certificate).toBeUndefined();
  });
});
