// The paste and device flows driven as a user would: the real `latchkey` in a real terminal
// (tmux), the user reading the pane and typing.
import { spawnSync } from "node:child_process";
import { startTmux, type TmuxSession } from "@latchkey/test-utils";
import {
  type RunningFakeAuthorizationServer,
  startFakeAuthorizationServer,
} from "@latchkey/testing";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, tempDir } from "./helpers.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
let idp: RunningFakeAuthorizationServer | undefined;

/** The real `latchkey` in a terminal of its own (killed when the test finishes). */
function startInTerminal(args: string[]): Promise<TmuxSession> {
  const quoted = [process.execPath, BIN, ...args]
    .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
    .join(" ");
  return startTmux(`env -u DISPLAY -u BROWSER NO_COLOR=1 ${quoted}; echo EXIT=$?; sleep 60`);
}

afterEach(async () => {
  await idp?.close();
  idp = undefined;
});

describe.skipIf(!hasTmux && !process.env.CI)("in a real terminal (tmux)", () => {
  it("S15 S16: --flow paste: a wrong paste is refused, the real address logs in", async () => {
    idp = await startFakeAuthorizationServer({});
    const storeDir = tempDir();
    const terminal = await startInTerminal([
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
    const pane = await terminal.waitFor(/Paste/);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(pane)?.[1];
    expect(url).toBeTruthy();
    // The browser on another machine ends on the redirect URI; the user copies its address.
    const location = (await fetch(url as string, { redirect: "manual" })).headers.get(
      "location",
    ) as string;
    await terminal.type(`${location}&code=again`);
    await terminal.waitFor(/warning:/);
    await terminal.type(location);
    const done = await terminal.waitFor(/EXIT=\d+/);
    expect(done).toContain("Logged in to");
    expect(done).toContain("EXIT=0");
    expect(idp.count("token", { grantType: "authorization_code", status: 200 })).toBe(1);
  });

  it("S50: --flow device: the user reads the code in the terminal and approves it", async () => {
    idp = await startFakeAuthorizationServer({ deviceIntervalSeconds: 1 });
    const terminal = await startInTerminal([
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
    const pane = await terminal.waitFor(/enter the code: \S+/);
    const userCode = /enter the code: (\S+)/.exec(pane)?.[1] as string;
    expect(pane).toMatch(/visit http:\/\/127\.0\.0\.1:\d+\/device/);
    idp.approveDevice(userCode);
    const done = await terminal.waitFor(/EXIT=\d+/);
    expect(done).toContain("EXIT=0");
    expect(done).toContain("Logged in to");
  });
});
