#!/usr/bin/env node
// A release dry run, as CI runs it (scripts/test-all.mjs): what `changeset version` and a publish
// would ship, installed the way a user installs it. Needs a build first (test-all's build step).
//  1. A scratch copy of the workspace (a temp dir; the checkout's versions and .changeset files
//     are never touched): `changeset version` must succeed, bump every public package, and bump
//     none to a major no changeset asked for (a peer dependency on a workspace package does that).
//  2. The version-dependent build step again (the CLI bundle inlines its version; the rest of
//     dist/ does not depend on it and is the build's), then `pnpm pack` of every package that is
//     not `"private": true`. The packed package.json files must hold no `workspace:` range.
//  3. Two fresh npm projects outside the workspace, installed from the tarballs (their other
//     dependencies from the npm registry): all five packages; and the CLI without
//     @latchkey/testing and without optional dependencies (no keytar).
//  4. From the first: `npx latchkey --version` (the bumped version), `latchkey demo` (headless,
//     the session summary on stdout), every `exports` target present, @latchkey/core bundled for
//     the browser with esbuild (no `node:` import), a @latchkey/testing server started, its
//     discovery document fetched, closed, and the `latchkey-fake-idp` bin started and stopped.
//     From the second: `latchkey --version`, and `latchkey demo` failing with the coded message
//     and exit 2, not a stack trace.
// Prints a few lines; on failure, the step that broke and the tail of what it printed; exit 1.
// Temp dirs and processes are removed whatever happens.
import { spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const started = Date.now();
const temp = mkdtempSync(join(tmpdir(), "latchkey-release-"));
const children = new Set();

const env = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" };
// keytar builds from source here (no prebuilt download): against the system's Node headers.
if (!env.npm_config_nodedir && existsSync("/usr/include/node/node.h"))
  env.npm_config_nodedir = "/usr";
// The demo must find no display and no browser: it then completes the login headlessly.
for (const name of ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER"]) delete env[name];
for (const name of Object.keys(env)) if (name.startsWith("LATCHKEY_")) delete env[name];

/** A failure of one step: its name, what went wrong, and what the command printed. */
class StepFailure extends Error {
  constructor(step, message, output = "") {
    super(message);
    this.step = step;
    this.output = output;
  }
}

let step = "set-up";
const lines = [];
const say = (line) => lines.push(line);

/** Runs a command to its end; its output is kept for the failure message. */
function run(
  command,
  args,
  { cwd, timeoutMs = 120_000, extraEnv = {}, allowFailure = false } = {},
) {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...env, ...extraEnv },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
    killSignal: "SIGKILL",
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  if (result.error)
    throw new StepFailure(step, `${command} ${args.join(" ")}: ${result.error.message}`, output);
  if (!allowFailure && result.status !== 0) {
    throw new StepFailure(
      step,
      `${command} ${args.join(" ")} exited with ${result.status ?? result.signal}`,
      output,
    );
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output };
}

/** The same, without blocking: the two npm installs run side by side. */
function runAsync(command, args, { cwd, timeoutMs = 180_000 } = {}) {
  const name = step;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) =>
      reject(new StepFailure(name, `${command}: ${error.message}`, output)),
    );
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (status === 0) resolve(output);
      else
        reject(
          new StepFailure(
            name,
            `${command} ${args.join(" ")} exited with ${status ?? signal}`,
            output,
          ),
        );
    });
  });
}

function fail(message, output) {
  throw new StepFailure(step, message, output);
}

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const BUMPS = ["patch", "minor", "major"];

/** The bump each package's changesets ask for, from their front matter. */
function requestedBumps(changesetDir) {
  const requested = new Map();
  for (const file of readdirSync(changesetDir).filter((name) => name.endsWith(".md"))) {
    const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(changesetDir, file), "utf8"));
    for (const match of (front?.[1] ?? "").matchAll(/^["']?([^"':]+)["']?\s*:\s*(\w+)/gm)) {
      const [, name, bump] = match;
      if (BUMPS.indexOf(bump) > BUMPS.indexOf(requested.get(name) ?? "")) requested.set(name, bump);
    }
  }
  return requested;
}

/** Which part of a semver version changed between two versions. */
function bumpOf(from, to) {
  const [a, b] = [from, to].map((version) => version.split(/[.-]/).map(Number));
  if (a[0] !== b[0]) return "major";
  if (a[1] !== b[1]) return "minor";
  return a[2] !== b[2] ? "patch" : "none";
}

try {
  // 1. changeset version in a scratch copy of the workspace.
  step = "changeset version";
  const scratch = join(temp, "workspace");
  mkdirSync(scratch);
  for (const entry of [
    "package.json",
    "pnpm-workspace.yaml",
    "pnpm-lock.yaml",
    "turbo.json",
    "tsconfig.base.json",
    ".changeset",
    "packages",
  ]) {
    if (!existsSync(join(root, entry))) continue;
    cpSync(join(root, entry), join(scratch, entry), {
      recursive: true,
      verbatimSymlinks: true,
      // Each package's node_modules holds relative links to its workspace siblings (kept, so
      // they point into the copy) and into the root store (a link to the checkout's).
      filter: (source) => !/[\\/](\.turbo|\.vite|\.vitest-results[^\\/]*)$/.test(source),
    });
  }
  symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"), "dir");
  const manifests = readdirSync(join(scratch, "packages"))
    .map((dir) => ({
      dir: join(scratch, "packages", dir),
      json: join(scratch, "packages", dir, "package.json"),
    }))
    .filter(({ json }) => existsSync(json))
    .map((entry) => ({ ...entry, manifest: readJson(entry.json) }));
  const publicPackages = manifests.filter(({ manifest }) => manifest.private !== true);
  const privatePackages = manifests.filter(({ manifest }) => manifest.private === true);
  const before = new Map(publicPackages.map(({ manifest }) => [manifest.name, manifest.version]));
  const requested = requestedBumps(join(scratch, ".changeset"));
  if (requested.size === 0) fail("there are no changesets: nothing to release");
  run(join(root, "node_modules", ".bin", "changeset"), ["version"], { cwd: scratch });
  const versions = new Map();
  for (const { json, manifest } of publicPackages) {
    const { name } = manifest;
    const version = readJson(json).version;
    versions.set(name, version);
    const bump = bumpOf(before.get(name), version);
    if (bump === "none") fail(`${name} was not bumped (still ${version})`);
    if (bump === "major" && requested.get(name) !== "major") {
      fail(
        `${name} was bumped to a major (${before.get(name)} -> ${version}) no changeset asked for; ` +
          "a peerDependency on a workspace package does that",
      );
    }
  }
  say(
    `changeset version: ${[...versions].map(([name, version]) => `${name}@${version}`).join(", ")}`,
  );

  // 2. Build what depends on the version, pack, check the packed manifests.
  step = "pack";
  const cli = publicPackages.find(({ manifest }) => manifest.name === "@latchkey/cli");
  if (!cli) fail("no @latchkey/cli package");
  run(process.execPath, ["scripts/bundle.mjs"], { cwd: cli.dir });
  const tarballs = join(temp, "tarballs");
  mkdirSync(tarballs);
  const tarballOf = new Map();
  for (const { dir, manifest } of publicPackages) {
    const before = new Set(readdirSync(tarballs));
    run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: dir });
    const made = readdirSync(tarballs).filter((file) => !before.has(file));
    if (made.length !== 1) fail(`pnpm pack of ${manifest.name} made ${made.length} tarballs`);
    tarballOf.set(manifest.name, join(tarballs, made[0]));
  }
  for (const { manifest } of privatePackages) {
    const slug = manifest.name.replace(/^@/, "").replace("/", "-");
    if (readdirSync(tarballs).some((file) => file.startsWith(slug)))
      fail(`the private ${manifest.name} was packed`);
  }
  for (const [name, tarball] of tarballOf) {
    const packed = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"]).stdout);
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      for (const [dependency, range] of Object.entries(packed[field] ?? {})) {
        if (range.startsWith("workspace:"))
          fail(`${name}'s packed ${field} still say ${dependency}@${range}`);
        if (
          field === "dependencies" &&
          versions.has(dependency) &&
          range !== `^${versions.get(dependency)}`
        ) {
          fail(
            `${name}'s packed ${field} say ${dependency}@${range}, not ^${versions.get(dependency)}`,
          );
        }
      }
    }
  }
  const sizes = [...tarballOf.values()].map((file) => file.split("/").pop());
  say(
    `packed ${tarballOf.size} packages (${privatePackages.map(({ manifest }) => manifest.name).join(", ")} private, not packed): ${sizes.join(" ")}`,
  );

  // 3. Two fresh projects outside the workspace, installed with npm.
  step = "npm install";
  const full = join(temp, "project-full");
  const bare = join(temp, "project-cli-only");
  const withoutTesting = [...tarballOf]
    .filter(([name]) => name !== "@latchkey/testing")
    .map(([, file]) => file);
  const npmInstall = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];
  for (const project of [full, bare]) {
    mkdirSync(project);
    run("npm", ["init", "-y"], { cwd: project });
  }
  await Promise.all([
    runAsync("npm", [...npmInstall, ...tarballOf.values()], { cwd: full }),
    runAsync("npm", [...npmInstall, "--omit=optional", ...withoutTesting], { cwd: bare }),
  ]);
  if (existsSync(join(bare, "node_modules", "@latchkey", "testing"))) {
    fail("installing @latchkey/cli without @latchkey/testing installed it anyway");
  }
  if (existsSync(join(bare, "node_modules", "jose")))
    fail("installing @latchkey/cli alone installed jose");
  say(`npm install: all five packages; the CLI without @latchkey/testing, keytar or jose`);

  // 4a. The CLI from the full install.
  const cliVersion = versions.get("@latchkey/cli");
  const home = join(temp, "home");
  mkdirSync(home);
  const userEnv = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
  };
  step = "latchkey --version";
  const version = run("npx", ["--no", "--", "latchkey", "--version"], {
    cwd: full,
    extraEnv: userEnv,
    timeoutMs: 30_000,
  });
  if (version.stdout.trim() !== cliVersion)
    fail(`printed ${JSON.stringify(version.stdout.trim())}, not ${cliVersion}`, version.output);
  step = "latchkey demo";
  const latchkey = (project) => join(project, "node_modules", ".bin", "latchkey");
  const demo = run(latchkey(full), ["demo"], { cwd: full, extraEnv: userEnv, timeoutMs: 60_000 });
  if (!/^Logged in:\s+yes$/m.test(demo.stdout) || !/^Subject:\s+alice$/m.test(demo.stdout)) {
    fail("its stdout holds no session summary", demo.output);
  }

  // 4b. Every exports target present in the installed packages.
  step = "exports";
  for (const name of tarballOf.keys()) {
    const dir = join(full, "node_modules", ...name.split("/"));
    const manifest = readJson(join(dir, "package.json"));
    const targets = [];
    const collect = (value) => {
      if (typeof value === "string") targets.push(value);
      else if (value && typeof value === "object")
        for (const inner of Object.values(value)) collect(inner);
    };
    collect(manifest.exports);
    collect(manifest.bin);
    for (const target of [...targets, manifest.main, manifest.types].filter(Boolean)) {
      if (!existsSync(join(dir, target))) fail(`${name}: ${target} is not in the package`);
    }
  }

  // 4c. @latchkey/core in a browser bundle.
  step = "browser bundle of @latchkey/core";
  const { build } = await import("esbuild");
  writeFileSync(
    join(full, "browser-entry.mjs"),
    'import * as core from "@latchkey/core";\nimport * as store from "@latchkey/core/store";\nglobalThis.latchkey = { core, store };\n',
  );
  let bundle;
  try {
    bundle = await build({
      entryPoints: [join(full, "browser-entry.mjs")],
      absWorkingDir: full,
      bundle: true,
      platform: "browser",
      format: "esm",
      minify: true,
      write: false,
      logLevel: "silent",
    });
  } catch (error) {
    fail(error.message.split("\n").slice(0, 6).join("\n"));
  }
  const text = bundle.outputFiles.map((file) => file.text).join("\n");
  const nodeImport = /["'`]node:[\w/]+["'`]/.exec(text);
  if (nodeImport) fail(`the bundle imports ${nodeImport[0]}`);
  say(`@latchkey/core for the browser: ${text.length} B minified, no node: import`);

  // 4d. A @latchkey/testing server from the install.
  step = "@latchkey/testing server";
  const serverScript = `
    import { startFakeAuthorizationServer } from "@latchkey/testing";
    const server = await startFakeAuthorizationServer({});
    try {
      const response = await fetch(new URL("/.well-known/openid-configuration", server.issuer));
      const document = await response.json();
      if (document.issuer !== server.issuer) throw new Error("discovery names issuer " + document.issuer);
      console.log(document.issuer);
    } finally {
      await server.close();
    }`;
  run(process.execPath, ["--input-type=module", "-e", serverScript], {
    cwd: full,
    timeoutMs: 30_000,
  });

  // 4e. The latchkey-fake-idp bin, started and stopped.
  step = "latchkey-fake-idp";
  const fakeIdp = spawn(join(full, "node_modules", ".bin", "latchkey-fake-idp"), [], {
    cwd: full,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(fakeIdp);
  let idpOutput = "";
  fakeIdp.stderr.on("data", (chunk) => (idpOutput += chunk));
  const exited = new Promise((resolve) =>
    fakeIdp.on("close", (status, signal) => resolve(status ?? signal)),
  );
  const firstLine = await new Promise((resolve) => {
    let buffered = "";
    fakeIdp.stdout.on("data", (chunk) => {
      buffered += chunk;
      idpOutput += chunk;
      if (buffered.includes("\n")) resolve(buffered.split("\n")[0]);
    });
    exited.then(() => resolve(undefined));
  });
  if (firstLine === undefined) fail("it ended before printing its JSON line", idpOutput);
  const { issuer } = JSON.parse(firstLine);
  const discovery = await fetch(new URL("/.well-known/openid-configuration", issuer));
  if (!discovery.ok) fail(`its discovery document answered ${discovery.status}`);
  fakeIdp.kill("SIGTERM");
  const idpStatus = await exited;
  children.delete(fakeIdp);
  if (idpStatus !== 0) fail(`it exited with ${idpStatus} on SIGTERM`, idpOutput);
  say(
    `from the install: latchkey ${cliVersion}, demo logged in headlessly, a fake server and latchkey-fake-idp served discovery`,
  );

  // 4f. The CLI installed without @latchkey/testing.
  step = "CLI without @latchkey/testing";
  const bareVersion = run(latchkey(bare), ["--version"], {
    cwd: bare,
    extraEnv: userEnv,
    timeoutMs: 30_000,
  });
  if (bareVersion.stdout.trim() !== cliVersion)
    fail(`--version printed ${JSON.stringify(bareVersion.stdout.trim())}`);
  const bareDemo = run(latchkey(bare), ["demo"], {
    cwd: bare,
    extraEnv: userEnv,
    timeoutMs: 30_000,
    allowFailure: true,
  });
  if (bareDemo.status !== 2)
    fail(`latchkey demo exited with ${bareDemo.status}, not 2`, bareDemo.output);
  if (!bareDemo.stderr.includes("npm i -g @latchkey/testing") || /^\s+at /m.test(bareDemo.stderr)) {
    fail("latchkey demo did not say clearly that @latchkey/testing is missing", bareDemo.output);
  }
  say(
    `without @latchkey/testing: --version works, demo exits 2: ${bareDemo.stderr.trim().split("\n")[0]}`,
  );

  console.log(lines.join("\n"));
  console.log(`release dry run: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (error) {
  console.log(lines.join("\n"));
  const failure =
    error instanceof StepFailure ? error : new StepFailure(step, error?.stack ?? String(error));
  const tail = failure.output.trim().split("\n").slice(-25).join("\n");
  console.error(
    `release dry run FAILED at step "${failure.step}": ${failure.message}${tail ? `\n${tail}` : ""}`,
  );
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill("SIGKILL");
  rmSync(temp, { recursive: true, force: true });
}
