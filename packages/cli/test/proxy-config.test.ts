import type { RunningFakeAuthorizationServer } from "@latchkey/testing";
import { beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { proxyUrl } from "../src/transport.js";
import {
  BROWSER,
  cleanEnv,
  cliArgs,
  fakeAuthorizationServerForTest,
  latchkey,
  startProxy,
  tempDir,
} from "./helpers.js";

// Proxy variables as people write them: curl takes `127.0.0.1:3128` as an http:// proxy, and a
// value latchkey cannot use is a configuration error (exit 2), never an internal error.

let idp: RunningFakeAuthorizationServer;
let storeDir: string;
beforeEach(async () => {
  idp = await fakeAuthorizationServerForTest({});
  storeDir = tempDir();
});

const common = (): string[] => cliArgs({ issuer: idp.issuer, storeDir });

describe("proxyUrl", () => {
  it.each([
    ["127.0.0.1:3128", "http://127.0.0.1:3128/"],
    ["proxy.corp", "http://proxy.corp/"],
    ["  http://proxy.corp:8080  ", "http://proxy.corp:8080/"],
    ["HTTPS://proxy.corp:443", "https://proxy.corp/"],
    ["http://user:pw@proxy.corp:8080", "http://user:pw@proxy.corp:8080/"],
  ])("%j is used as %j", (value, expected) => {
    expect(proxyUrl({ HTTPS_PROXY: value }, "HTTPS_PROXY")).toBe(expected);
  });

  it("reads the lower-case variable when the upper-case one is unset or empty", () => {
    expect(proxyUrl({ HTTP_PROXY: "", http_proxy: "10.0.0.1:3128" }, "HTTP_PROXY")).toBe(
      "http://10.0.0.1:3128/",
    );
    expect(proxyUrl({}, "HTTP_PROXY")).toBeUndefined();
  });

  it.each([
    ["socks5://127.0.0.1:1080", "socks5 proxies are not supported"],
    ["http://", "give http://HOST:PORT"],
    ["http://[::1", "give http://HOST:PORT"],
  ])("%j is refused with CONFIG_INVALID", (value, message) => {
    expect(() => proxyUrl({ HTTPS_PROXY: value }, "HTTPS_PROXY")).toThrow(
      expect.objectContaining({
        code: "CONFIG_INVALID",
        message: expect.stringContaining(message),
      }),
    );
  });
});

describe("proxy variables through the real bin", () => {
  it("HTTP_PROXY without a scheme carries the requests, as curl would", async () => {
    const proxy = await startProxy();
    onTestFinished(() => proxy.close());
    const bare = proxy.url.replace(/^http:\/\//, "");
    const result = await latchkey(["login", ...common(), "--browser-command", BROWSER], {
      env: cleanEnv({ HTTP_PROXY: bare, NO_PROXY: "" }),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(proxy.seen.length).toBeGreaterThan(0);
  });

  it("an unusable proxy is exit 2 with one line naming the variable, never its password", async () => {
    for (const value of ["socks5://user:hunter2@127.0.0.1:1080", "http://user:hunter2@[::1"]) {
      const result = await latchkey(["token", "--no-login", "-v", ...common()], {
        env: cleanEnv({ HTTPS_PROXY: value }),
      });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain("HTTPS_PROXY is not a usable proxy address");
      expect(result.stderr).not.toContain("hunter2");
      expect(result.stderr).not.toContain("unexpected internal error");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
