// The paste and device flows driven as a user would: the real `latchkey` in a real terminal
// (tmux), the user reading the pane and typing.
import { execFileSync, spawnSync } from "node:child_process";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, tempDir } from "./helpers.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const socket = `latchkey-cli-${process.pid}`;
let idp: RunningFakeAuthorizationServer | undefined;

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
}

async function waitForPane(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pane = tmux("capture-pane", "-p", "-J", "-t", "t", "-S", "-200");
    if (pattern.test(pane)) return pane;
    if (Date.now() > deadline) throw new Error(`pane never matched ${pattern}:\n${pane}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function startInTerminal(args: string[]): void {
  const quoted = [process.execPath, BIN, ...args]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(" ");
  tmux(
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    "250",
    "-y",
    "60",
    `env -u DISPLAY -u BROWSER NO_COLOR=1 ${quoted}; echo EXIT=$?; sleep 60`,
  );
}

afterEach(async () => {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  await idp?.close();
  idp = undefined;
});

describe.skipIf(!hasTmux && !process.env.CI)("in a real terminal (tmux)", () => {
  it("S15 S16: --flow paste: a wrong paste is refused, the real address logs in", async () => {
    idp = await startFakeAuthorizationServer({});
    const storeDir = tempDir();
    startInTerminal([
      "login",
      "--flow",
      "paste",
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "file",
      "--store-dir",
      storeDir,
    ]);
    const pane = await waitForPane(/Paste/);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(pane)?.[1];
    expect(url).toBeTruthy();
    // The browser on another machine ends on the redirect URI; the user copies its address.
    const location = (await fetch(url as string, { redirect: "manual" })).headers.get(
      "location",
    ) as string;
    tmux("send-keys", "-t", "t", "-l", `${location}&code=again`);
    tmux("send-keys", "-t", "t", "Enter");
    await waitForPane(/warning:/);
    tmux("send-keys", "-t", "t", "-l", location);
    tmux("send-keys", "-t", "t", "Enter");
    const done = await waitForPane(/EXIT=\d+/);
    expect(done).toContain("Logged in to");
    expect(done).toContain("EXIT=0");
    expect(idp.count("token", { grantType: "authorization_code", status: 200 })).toBe(1);
  });

  it("S50: --flow device: the user reads the code in the terminal and approves it", async () => {
    idp = await startFakeAuthorizationServer({ deviceIntervalSeconds: 1 });
    startInTerminal([
      "login",
      "--flow",
      "device",
      "--issuer",
      idp.issuer,
      "--client-id",
      "latchkey",
      "--store",
      "memory",
    ]);
    const pane = await waitForPane(/enter the code: \S+/);
    const userCode = /enter the code: (\S+)/.exec(pane)?.[1] as string;
    expect(pane).toMatch(/visit http:\/\/127\.0\.0\.1:\d+\/device/);
    idp.approveDevice(userCode);
    const done = await waitForPane(/EXIT=\d+/);
    expect(done).toContain("EXIT=0");
    expect(done).toContain("Logged in to");
  });
});
