import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, tempDir } from "@latchkey/test-utils";
import { describe, it } from "vitest";

/** Set by test/run-with-keyring.mjs: "1" inside a private session with an unlocked gnome-keyring. */
export const keyringSession: string | undefined = process.env.LATCHKEY_KEYRING_SESSION;
export const realKeyring: boolean = keyringSession === "1" && process.platform === "linux";

const why =
  keyringSession === "missing"
    ? "dbus-run-session or gnome-keyring-daemon is not installed (apt-get install dbus gnome-keyring libsecret-tools)"
    : "vitest was not started through `pnpm test` (test/run-with-keyring.mjs), so there is no private keyring session";

/**
 * A describe block that needs the real keyring (gnome-keyring in a private D-Bus session). Without
 * one it fails under CI (CI=true) with the reason, and is skipped with the reason elsewhere.
 */
export function describeRealKeyring(title: string, body: () => void): void {
  if (realKeyring) {
    describe(title, body);
  } else if (process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false") {
    describe(title, () => {
      it("needs the real keyring session", () => {
        throw new Error(`The real-keyring tests cannot run: ${why}.`);
      });
    });
  } else {
    describe.skip(`${title} (skipped: ${why})`, body);
  }
}

/** The environments a child process can be started in. */
export type KeyringSituation =
  | "no-dbus"
  | "no-secret-service"
  | "not-unlocked"
  | "locked"
  | "unlocked";

const NO_SERVICES_CONFIG = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

/** Locks the login collection over D-Bus (dbus-send comes with the dbus package). */
const LOCK_LOGIN =
  "dbus-send --session --print-reply=literal --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null";

export interface ChildResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node script ...args` in a keyring situation, each in its own D-Bus session and XDG
 * directories (removed afterwards): no D-Bus at all, a bus without a Secret Service, a Secret
 * Service without an unlocked keyring, a locked keyring, an unlocked one.
 */
export async function runInSituation(
  situation: KeyringSituation,
  script: string,
  args: readonly string[],
): Promise<ChildResult> {
  const base = tempDir("latchkey-situation-");
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ["data", "config", "cache", "runtime"]) {
    const dir = join(base, name);
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700);
  }
  env.XDG_DATA_HOME = join(base, "data");
  env.XDG_CONFIG_HOME = join(base, "config");
  env.XDG_CACHE_HOME = join(base, "cache");
  env.XDG_RUNTIME_DIR = join(base, "runtime");
  for (const name of [
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "GNOME_KEYRING_CONTROL",
    "LATCHKEY_KEYRING_PASSWORD",
  ]) {
    delete env[name];
  }
  const node = [process.execPath, script, ...args];
  const unlock = "printf %s pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null";
  let command: string[];
  switch (situation) {
    case "no-dbus":
      command = node;
      break;
    case "no-secret-service": {
      const config = join(base, "no-services.conf");
      await writeFile(config, NO_SERVICES_CONFIG);
      command = ["dbus-run-session", `--config-file=${config}`, "--", ...node];
      break;
    }
    case "not-unlocked":
      command = ["dbus-run-session", "--", ...node];
      break;
    case "locked":
      command = [
        "dbus-run-session",
        "--",
        "sh",
        "-c",
        `${unlock} && ${LOCK_LOGIN} && exec "$@"`,
        "sh",
        ...node,
      ];
      break;
    case "unlocked":
      command = ["dbus-run-session", "--", "sh", "-c", `${unlock} && exec "$@"`, "sh", ...node];
      break;
  }
  return runChild(command, env);
}

/** Runs a command to its end, collecting its output (killed after `timeoutMs`, a hang guard). */
export async function runChild(
  command: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 30_000,
): Promise<ChildResult> {
  const [file, ...rest] = command;
  if (file === undefined) throw new Error("no command");
  const { code, stdout, stderr } = await run(file, rest, { env, timeoutMs });
  return { status: code, stdout, stderr };
}

/** The last JSON line a fixture printed on stdout. */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout
    .trim()
    .split("\n")
    .filter((line) => line.startsWith("{"));
  const last = lines.at(-1);
  if (last === undefined) throw new Error(`no JSON on stdout: ${stdout}`);
  return JSON.parse(last) as Record<string, unknown>;
}
