import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LatchkeyError } from "@latchkey/core";
import { fileAppears, tempDir } from "@latchkey/test-utils";
import { describe, expect, it, onTestFinished } from "vitest";
import { resolveBrowser } from "../src/browser.js";
import {
  browserUnavailableReason,
  NodeServerErrorCode,
  openBrowser,
  splitCommand,
} from "../src/index.js";

const has =
  (...names: string[]) =>
  (name: string) =>
    names.includes(name) ? `/usr/bin/${name}` : undefined;
const nothing = () => undefined;

describe("resolveBrowser / browserUnavailableReason", () => {
  it("S5: an explicit command wins, split into words without a shell", () => {
    expect(resolveBrowser({ command: "chromium --headless 'a b'", env: {} })).toEqual({
      available: true,
      argv: ["chromium", "--headless", "a b"],
      source: "command",
    });
    expect(
      browserUnavailableReason({ command: ["x"], env: { SSH_TTY: "/dev/pts/0" } }),
    ).toBeUndefined();
    expect(() => resolveBrowser({ command: "  " })).toThrow(LatchkeyError);
    expect(() => splitCommand("a 'b")).toThrow(/unclosed quote/);
  });

  it("honours $BROWSER: the first entry of a list found on $PATH", () => {
    expect(
      resolveBrowser({
        env: { BROWSER: "nope:firefox --new-tab" },
        platform: "linux",
        findExecutable: has("firefox"),
      }),
    ).toEqual({ available: true, argv: ["firefox", "--new-tab"], source: "BROWSER" });
    expect(
      resolveBrowser({
        env: { BROWSER: "w3m", SSH_TTY: "/dev/pts/1" },
        platform: "linux",
        findExecutable: nothing,
      }),
    ).toMatchObject({ available: true, argv: ["w3m"] });
  });

  it("Linux: no display, an SSH session, a container, no xdg-open", () => {
    const base = { platform: "linux" as const, wsl: false, container: false };
    expect(browserUnavailableReason({ ...base, env: {}, findExecutable: has("xdg-open") })).toBe(
      "there is no graphical display ($DISPLAY is not set)",
    );
    expect(
      browserUnavailableReason({
        ...base,
        env: { SSH_CONNECTION: "1 2 3 4" },
        findExecutable: has("xdg-open"),
      }),
    ).toMatch(/SSH session/);
    expect(
      browserUnavailableReason({
        ...base,
        container: true,
        env: {},
        findExecutable: has("xdg-open"),
      }),
    ).toMatch(/container/);
    expect(
      browserUnavailableReason({
        platform: "linux",
        wsl: false,
        env: { container: "podman" },
        findExecutable: nothing,
      }),
    ).toMatch(/container/);
    expect(
      browserUnavailableReason({ ...base, env: { DISPLAY: ":0" }, findExecutable: nothing }),
    ).toBe("xdg-open is not installed");
    expect(
      resolveBrowser({
        ...base,
        env: { WAYLAND_DISPLAY: "wayland-0" },
        findExecutable: has("xdg-open"),
      }),
    ).toEqual({ available: true, argv: ["xdg-open"], source: "platform" });
    // X forwarding over SSH has a display: a browser can open.
    expect(
      browserUnavailableReason({
        ...base,
        env: { SSH_TTY: "x", DISPLAY: "localhost:10.0" },
        findExecutable: has("xdg-open"),
      }),
    ).toBeUndefined();
  });

  it("WSL: wslview, else the Windows opener through interop (never cmd.exe), else a reason", () => {
    const env = { WSL_DISTRO_NAME: "Debian" };
    expect(
      resolveBrowser({ platform: "linux", env, findExecutable: has("wslview", "explorer.exe") }),
    ).toEqual({
      available: true,
      argv: ["wslview"],
      source: "wsl",
    });
    expect(
      resolveBrowser({
        platform: "linux",
        env,
        findExecutable: has("rundll32.exe", "explorer.exe"),
      }),
    ).toEqual({
      available: true,
      argv: ["rundll32.exe", "url.dll,FileProtocolHandler"],
      source: "wsl",
    });
    expect(
      resolveBrowser({ platform: "linux", env, findExecutable: has("explorer.exe") }),
    ).toMatchObject({
      argv: ["explorer.exe"],
    });
    expect(browserUnavailableReason({ platform: "linux", env, findExecutable: nothing })).toMatch(
      /WSL/,
    );
  });

  it("macOS and Windows: the platform opener, unless over SSH", () => {
    expect(resolveBrowser({ platform: "darwin", env: {} })).toMatchObject({ argv: ["open"] });
    expect(browserUnavailableReason({ platform: "darwin", env: { SSH_CLIENT: "x" } })).toMatch(
      /remote Mac/,
    );
    expect(resolveBrowser({ platform: "win32", env: {} })).toMatchObject({
      argv: ["rundll32", "url.dll,FileProtocolHandler"],
    });
    expect(browserUnavailableReason({ platform: "win32", env: { SSH_CONNECTION: "x" } })).toMatch(
      /SSH/,
    );
  });
});

describe("openBrowser", () => {
  const URL_WITH_SHELL_META = "http://127.0.0.1:1/authorize?a=1&b=$(touch /tmp/x);c=`id`|d 'e\"";

  it("S5: the URL reaches the program as one argument, never through a shell", async () => {
    const dir = tempDir("latchkey-open-");
    const out = join(dir, "argv.json");
    await openBrowser(URL_WITH_SHELL_META, {
      command: [
        process.execPath,
        "-e",
        // Written aside, then renamed: the file appears whole.
        "const fs = require('fs'); fs.writeFileSync(process.argv[1] + '.part', JSON.stringify(process.argv.slice(2))); fs.renameSync(process.argv[1] + '.part', process.argv[1])",
        out,
      ],
    });
    await fileAppears(out);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual([URL_WITH_SHELL_META]);
  });

  it("$BROWSER with %s puts the URL in place of %s", async () => {
    const dir = tempDir("latchkey-open-");
    const out = join(dir, "argv.json");
    const script = join(dir, "b.cjs");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      script,
      "const fs = require('fs'); fs.writeFileSync(process.argv[2] + '.part', JSON.stringify(process.argv.slice(3))); fs.renameSync(process.argv[2] + '.part', process.argv[2])",
    );
    await openBrowser("http://x.example/", {
      env: {
        BROWSER: `${process.execPath} ${script} ${out} --url %s --end`,
        PATH: process.env.PATH,
      },
      platform: "linux",
      failWindowMs: 2000,
    });
    await fileAppears(out);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(["--url", "http://x.example/", "--end"]);
  });

  it("S5 S42: a program that cannot be started is BROWSER_FAILED, and the message holds no URL", async () => {
    const error = await openBrowser("http://127.0.0.1:1/cb?code=SECRET-CODE&state=SECRET-STATE", {
      command: "/nonexistent/browser --flag",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LatchkeyError);
    expect(error).toMatchObject({ code: NodeServerErrorCode.BROWSER_FAILED });
    expect(String((error as Error).message)).toMatch(/"browser" \(ENOENT\)/);
    expect(JSON.stringify(error)).not.toContain("SECRET");
    expect((error as Error).message).not.toContain("SECRET");
  });

  it("an opener that exits non-zero at once (xdg-open without a handler) is BROWSER_FAILED", async () => {
    const error = await openBrowser("http://127.0.0.1:1/", {
      command: ["sh", "-c", "exit 3", "xdg-open"],
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: NodeServerErrorCode.BROWSER_FAILED });
    expect((error as Error).message).toContain("exit status 3");
  });

  it("an opener that exits 0, or is still running after the window, succeeds", async () => {
    await expect(
      openBrowser("http://127.0.0.1:1/", { command: ["true"] }),
    ).resolves.toBeUndefined();
    // An opener that never exits by itself (it records its pid, then waits): success must not
    // wait for its exit, and it is still running when openBrowser has resolved.
    const dir = tempDir("latchkey-open-");
    const pidFile = join(dir, "pid");
    await expect(
      openBrowser("http://127.0.0.1:1/", {
        command: [
          "sh",
          "-c",
          'echo $$ > "$0.part" && mv "$0.part" "$0" && exec sleep 600',
          pidFile,
        ],
        failWindowMs: 200,
      }),
    ).resolves.toBeUndefined();
    await fileAppears(pidFile);
    const pid = Number(readFileSync(pidFile, "utf8"));
    onTestFinished(() => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    });
    expect(() => process.kill(pid, 0)).not.toThrow(); // still running
  });

  it("no browser available here is BROWSER_FAILED with the reason", async () => {
    await expect(
      openBrowser("http://127.0.0.1:1/", {
        env: {},
        platform: "linux",
        wsl: false,
        container: false,
      }),
    ).rejects.toMatchObject({
      code: NodeServerErrorCode.BROWSER_FAILED,
      message: expect.stringContaining("no graphical display"),
    });
  });
});
