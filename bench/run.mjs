// `pnpm bench`: builds, then runs every benchmark through bench/table.mjs, which prints ONE table
// and rewrites bench/RESULTS.md. Inside a private D-Bus session with an unlocked gnome-keyring
// when one can be started, so that the token hot path is also measured with the OS keyring.
import { spawnSync } from "node:child_process";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
const build = spawnSync("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"], {
  stdio: "inherit",
  env,
});
if (build.status !== 0) process.exit(build.status ?? 1);
const table = new URL("table.mjs", import.meta.url).pathname;
const withKeyring = new URL("../packages/cli/test/fixtures/with-keyring.sh", import.meta.url)
  .pathname;
const keyring =
  spawnSync("sh", ["-c", "command -v dbus-run-session && command -v gnome-keyring-daemon"])
    .status === 0;
const command = keyring ? [withKeyring, process.execPath, table] : [process.execPath, table];
const result = spawnSync(command[0], command.slice(1), { stdio: "inherit", env });
process.exit(result.status ?? 1);
