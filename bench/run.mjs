// `pnpm bench`: builds, then runs every benchmark in this folder and prints its figures.
import { spawnSync } from "node:child_process";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
const build = spawnSync("pnpm", ["exec", "turbo", "run", "build", "--output-logs=errors-only"], {
  stdio: "inherit",
  env,
});
if (build.status !== 0) process.exit(build.status ?? 1);
let failed = 0;
for (const script of [
  "token-hot-path.mjs",
  "core-bundle-size.mjs",
  "fake-server-startup-and-roundtrips.mjs",
]) {
  const path = new URL(script, import.meta.url).pathname;
  // The hot path is also measured with the token in a real OS keyring, inside a private session.
  const keyring = new URL("../packages/cli/test/fixtures/with-keyring.sh", import.meta.url)
    .pathname;
  const useKeyring =
    script === "token-hot-path.mjs" &&
    spawnSync("sh", ["-c", "command -v dbus-run-session"]).status === 0;
  const command = useKeyring ? [keyring, process.execPath, path] : [process.execPath, path];
  const result = spawnSync(command[0], command.slice(1), {
    stdio: "inherit",
    env,
  });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
