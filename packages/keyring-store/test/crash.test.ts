import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileTokenStore } from "../src/index.js";
import { fullCredentials, keyA, minimalCredentials, tempDir } from "./helpers.js";

// The child process runs the real FileTokenStore code: the sources are transpiled (types
// stripped) into a folder inside the package, so that `@latchkey/core` resolves as it does here.
const packageDir = join(import.meta.dirname, "..");
const buildDir = join(packageDir, "test-artifacts", `crash-${process.pid}`);
const childScript = join(buildDir, "child.mjs");

const CHILD = `
import { FileTokenStore, setFileStoreTestHooks } from "./file.js";
const [directory, key, credentials] = process.argv.slice(2);
const store = new FileTokenStore({ directory });
setFileStoreTestHooks(store, {
  beforeRename: (tempPath) => {
    process.stdout.write("READY " + tempPath + "\\n");
    setInterval(() => {}, 1000);
    return new Promise(() => {});
  },
});
await store.set(JSON.parse(key), JSON.parse(credentials));
process.stdout.write("RENAMED\\n");
`;

beforeAll(async () => {
  await mkdir(buildDir, { recursive: true });
  const srcDir = join(packageDir, "src");
  for (const name of await readdir(srcDir)) {
    if (!name.endsWith(".ts")) continue;
    const source = await readFile(join(srcDir, name), "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: name,
    });
    await writeFile(join(buildDir, name.replace(/\.ts$/, ".js")), outputText);
  }
  await writeFile(childScript, CHILD);
});

afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true });
  await rmdir(join(packageDir, "test-artifacts")).catch(() => {}); // only when empty
});

/** Starts a child that writes `credentials` and is SIGKILLed between the temp file and the rename. */
async function writeAndCrash(directory: string, credentials: object): Promise<string> {
  const child = spawn(
    process.execPath,
    [childScript, directory, JSON.stringify(keyA), JSON.stringify(credentials)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => {
    child.on("exit", (code, signal) => resolve(signal ?? code));
  });
  const tempPath = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^READY (.+)$/m.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.on("exit", () => reject(new Error(`child exited early: ${stdout} ${stderr}`)));
  });
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");
  expect(stdout).not.toContain("RENAMED");
  return tempPath;
}

describe("S38: a crash between writing and renaming", () => {
  it("S38: leaves the previous record intact, and the leftover temp file is ignored", async () => {
    const dir = await tempDir();
    const store = new FileTokenStore({ directory: dir });
    await store.set(
      keyA,
      fullCredentials({
        accessToken: "old-token",
        refreshToken: "old-refresh",
      }),
    );
    const before = await readFile(store.filePath(keyA), "utf8");

    const tempPath = await writeAndCrash(
      dir,
      fullCredentials({
        accessToken: "new-token",
        refreshToken: "new-refresh",
      }),
    );

    // The temp file was fully written (and is 0600), but never took the record's place.
    expect(JSON.parse(await readFile(tempPath, "utf8"))).toMatchObject({
      accessToken: "new-token",
    });
    if (process.platform !== "win32") expect((await stat(tempPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(store.filePath(keyA), "utf8")).toBe(before);
    const fresh = new FileTokenStore({ directory: dir });
    expect(await fresh.get(keyA)).toStrictEqual(
      fullCredentials({
        accessToken: "old-token",
        refreshToken: "old-refresh",
      }),
    );

    // The next write still works and the leftover never shadows it.
    await fresh.set(keyA, minimalCredentials("after-crash"));
    expect((await fresh.get(keyA))?.accessToken).toBe("after-crash");
  });

  it("S38: with no previous record, the key still reads as absent", async () => {
    const dir = await tempDir();
    const tempPath = await writeAndCrash(dir, minimalCredentials("never-committed"));
    expect((await readdir(dir)).map((name) => join(dir, name))).toEqual([tempPath]);
    expect(await new FileTokenStore({ directory: dir }).get(keyA)).toBeUndefined();
  });
});
