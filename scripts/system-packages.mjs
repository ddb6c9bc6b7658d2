#!/usr/bin/env node
// Installs the Debian packages the tests need (scripts/system-packages.txt) when some are missing.
// Prints the names it installed on stdout (one line), nothing when all were there.
// Exit 0 when all are present afterwards, 1 otherwise.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const list = new URL("./system-packages.txt", import.meta.url);

export function missingSystemPackages() {
  if (process.platform !== "linux" || !existsSync("/usr/bin/dpkg-query")) return [];
  const wanted = readFileSync(list, "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
  return wanted.filter((name) => {
    const result = spawnSync("dpkg-query", ["-W", `-f=$\{Status}`, name], { encoding: "utf8" });
    return result.stdout?.includes("install ok installed") !== true;
  });
}

export function installSystemPackages() {
  const missing = missingSystemPackages();
  if (missing.length === 0) return { status: 0, installed: [] };
  if (process.getuid?.() !== 0) {
    console.error(
      `Missing Debian packages: ${missing.join(" ")}. Install them as root: apt-get install ${missing.join(" ")}`,
    );
    return { status: 1, installed: [] };
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  console.error(`Installing Debian packages: ${missing.join(" ")}`);
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: ["ignore", 2, 2], env });
  if (update.status !== 0) return { status: 1, installed: [] };
  const install = spawnSync(
    "apt-get",
    ["install", "-y", "-qq", "--no-install-recommends", ...missing],
    { stdio: ["ignore", 2, 2], env },
  );
  return { status: install.status ?? 1, installed: install.status === 0 ? missing : [] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { status } = installSystemPackages();
  process.exit(status);
}
