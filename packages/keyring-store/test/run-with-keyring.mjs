#!/usr/bin/env node
// Runs vitest inside a private D-Bus session with gnome-keyring started and unlocked, so that
// the keyring tests use a real Secret Service (docs/development.md, "Real OS keyring on a headless
// machine"). Keyring files and sockets go to a temporary directory, never to ~, and are removed
// afterwards.
//
// LATCHKEY_KEYRING_SESSION tells the tests what they got:
//   "1"        a real, unlocked keyring: the keyring tests run;
//   "missing"  dbus-run-session or gnome-keyring-daemon is not installed: the keyring tests
//              fail under CI (CI=true) and are skipped with that reason elsewhere.
// Arguments are passed on to `vitest run`.
import { spawnSync } from "node:child_process";
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

const args = ["run", ...process.argv.slice(2)];

function which(command) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {}
  }
  return undefined;
}

function run(command, commandArgs, env) {
  const result = spawnSync(command, commandArgs, { stdio: "inherit", env });
  if (result.error) {
    console.error(`Could not start ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

const missing = ["dbus-run-session", "gnome-keyring-daemon"].filter((tool) => !which(tool));
if (process.env.LATCHKEY_KEYRING_SESSION === "1" || process.platform !== "linux") {
  // Already inside a session (or not Linux: the tests decide what they can do).
  process.exit(run("vitest", args, process.env));
}
if (missing.length > 0) {
  console.error(
    `run-with-keyring: ${missing.join(" and ")} not found (Debian: apt-get install dbus gnome-keyring libsecret-tools); ` +
      "the real-keyring tests will be skipped, or fail under CI.",
  );
  process.exit(run("vitest", args, { ...process.env, LATCHKEY_KEYRING_SESSION: "missing" }));
}

const base = mkdtempSync(join(tmpdir(), "latchkey-keyring-session-"));
const dirs = {};
for (const name of ["data", "config", "cache", "runtime"]) {
  dirs[name] = join(base, name);
  mkdirSync(dirs[name], { mode: 0o700 });
  chmodSync(dirs[name], 0o700);
}
const env = {
  ...process.env,
  XDG_DATA_HOME: dirs.data,
  XDG_CONFIG_HOME: dirs.config,
  XDG_CACHE_HOME: dirs.cache,
  XDG_RUNTIME_DIR: dirs.runtime,
  LATCHKEY_KEYRING_SESSION: "1",
};
// A session bus of our own, whatever the caller's environment points at.
delete env.DBUS_SESSION_BUS_ADDRESS;
delete env.GNOME_KEYRING_CONTROL;
let status;
try {
  status = run(
    "dbus-run-session",
    [
      "--",
      "sh",
      "-c",
      'printf %s "$LATCHKEY_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"',
      "sh",
      "vitest",
      ...args,
    ],
    { ...env, LATCHKEY_KEYRING_PASSWORD: "latchkey-test" },
  );
} finally {
  rmSync(base, { recursive: true, force: true });
}
process.exit(status);
