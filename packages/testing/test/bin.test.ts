import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fakeFaultCatalogue } from "../src/index.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", () => reject(new Error(`exited before printing: ${stderr}`)));
  });
  firstLine.catch(() => undefined);
  return { child, exit, firstLine, stderr: () => stderr };
}

describe.runIf(existsSync(BIN))("latchkey-fake-idp (needs `pnpm build`)", () => {
  it("prints one JSON line, serves discovery, and exits 0 on SIGTERM", async () => {
    const { child, exit, firstLine } = run([
      "--client",
      "ci:s3cret",
      "--issuer-path",
      "/t",
      "--no-rotation",
    ]);
    try {
      const info = JSON.parse(await firstLine) as {
        issuer: string;
        clients: string[];
        endpoints: { openidConfiguration: string; oauthMetadata: string };
      };
      expect(info.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/t$/);
      expect(info.clients).toEqual(["latchkey", "ci"]);
      const metadata = await (await fetch(info.endpoints.openidConfiguration)).json();
      expect(metadata.issuer).toBe(info.issuer);
      expect((await (await fetch(info.endpoints.oauthMetadata)).json()).issuer).toBe(info.issuer);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exit).toBe(0);
  });

  it("exits 0 on SIGINT too", async () => {
    const { child, exit, firstLine } = run([]);
    await firstLine;
    child.kill("SIGINT");
    expect(await exit).toBe(0);
  });

  it("exits 2 with a message on stderr for bad flags", async () => {
    for (const args of [
      ["--bogus"],
      ["--port", "abc"],
      ["--client", ":x"],
      ["--client", "latchkey"],
      ["extra"],
    ]) {
      const { exit, stderr } = run(args);
      expect(await exit, args.join(" ")).toBe(2);
      expect(stderr()).toMatch(/^latchkey-fake-idp: /);
    }
  });

  it("--help prints usage and exits 0", async () => {
    const { child, exit } = run(["--help"]);
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk.toString();
    });
    expect(await exit).toBe(0);
    expect(stdout).toContain("--client ID[:SECRET]");
  });
});

describe.runIf(existsSync(BIN))("latchkey-fake-idp flags (needs `pnpm build`)", () => {
  it("S4: --fault NAME:TIMES, --https, --users-file, --signing-alg and --device-auto-approve work", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fake-idp-bin-"));
    const usersFile = join(dir, "users.json");
    writeFileSync(usersFile, JSON.stringify({ bob: { claims: { email: "bob@example.com" } } }));
    const { child, exit, firstLine } = run([
      "--https",
      "--users-file",
      usersFile,
      "--signing-alg",
      "RS256",
      "--device-auto-approve",
      "--fault",
      "jwks:5xx:1:502",
      "--fault",
      "discovery:issuer-mismatch:1",
    ]);
    try {
      const info = JSON.parse(await firstLine) as {
        issuer: string;
        certificate: string;
        endpoints: { jwks: string; openidConfiguration: string; deviceAuthorization: string };
      };
      expect(info.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const get = (url: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          httpsRequest(url, { ca: info.certificate }, (response) => {
            let body = "";
            response.on("data", (chunk) => {
              body += chunk;
            });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
          })
            .on("error", reject)
            .end();
        });
      expect((await get(info.endpoints.jwks)).status).toBe(502);
      const jwks = JSON.parse((await get(info.endpoints.jwks)).body);
      expect(jwks.keys[0].alg).toBe("RS256");
      expect(JSON.parse((await get(info.endpoints.openidConfiguration)).body).issuer).toBe(
        `${info.issuer}/wrong`,
      );
      expect(JSON.parse((await get(info.endpoints.openidConfiguration)).body).issuer).toBe(
        info.issuer,
      );
    } finally {
      child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await exit).toBe(0);
  });

  it("S4: --list-faults prints the catalogue; a bad --fault or --signing-alg exits 2", async () => {
    const { child, exit } = run(["--list-faults"]);
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk.toString();
    });
    expect(await exit).toBe(0);
    const names = stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { name: string }).name);
    expect(names).toEqual(fakeFaultCatalogue.map((fault) => fault.name));
    for (const args of [
      ["--fault", "token:teapot"],
      ["--fault", "token:5xx:0"],
      ["--fault", "token:5xx:1:404"],
      ["--signing-alg", "HS256"],
      ["--users-file", "/nonexistent/users.json"],
    ]) {
      const bad = run(args);
      expect(await bad.exit, args.join(" ")).toBe(2);
    }
  });
});
