#!/usr/bin/env node
// A release dry run, as CI runs it (scripts/test-all.mjs): what `changeset version` and a publish
// would ship, installed the way a user installs it. Needs a build first (test-all's build step).
//  1. A scratch copy of the workspace (a temp dir; the checkout's versions and .changeset files
//     are never touched): `changeset version` must succeed, bump every public package, and bump
//     none to a major no changeset asked for (a peer dependency on a workspace package does that).
//  2. The version-dependent build step again (the CLI bundle inlines its version; the rest of
//     dist/ does not depend on it and is the build's), then `pnpm pack` of every package that is
//     not `"private": true`. The packed package.json files must hold no `workspace:` range, each
//     tarball a README and the LICENSE, and no test file.
//  3. Two fresh npm projects outside the workspace, installed from the tarballs (their other
//     dependencies from the npm registry): all five packages; and the CLI without
//     @latchkey/testing and without optional dependencies (no keytar).
//  4. From the first: `npx latchkey --version` (the bumped version), `latchkey demo` (headless,
//     the session summary on stdout), every `exports` target present, @latchkey/core bundled for
//     the browser with esbuild (no `node:` import), a @latchkey/testing server started, its
//     discovery document fetched, closed, and the `latchkey-fake-idp` bin started and stopped.
//     From the second: `latchkey --version`, the library's import, and `latchkey demo` failing
//     with the coded message and exit 2, not a stack trace.
// Prints a few lines; on failure, the step that broke and the tail of what it printed; exit 1.
// Temp dirs and processes are removed whatever happens.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bumpOf,
  missingTargets,
  packedFileProblems,
  packedRangeProblems,
  readJson,
  requestedBumps,
  StepFailure,
  Steps,
} from "./release-dry-run-steps.mjs";

const root = new URL("..", import.meta.url).pathname;
const started = Date.now();
const temp = mkdtempSync(join(tmpdir(), "latchkey-release-"));

const env = { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" };
// keytar builds from source here (no prebuilt download): against the system's Node headers.
if (!env.npm_config_nodedir && existsSync("/usr/include/node/node.h")) {
  env.npm_config_nodedir = "/usr";
}
// The demo must find no display and no browser: it then completes the login headlessly.
for (const name of ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER"]) delete env[name];
// Nor what a `pnpm test:all` around this script says of itself: npm and the CLI are run as a
// user runs them (the user's npm_config_* settings, such as a registry, still count).
const inherited =
  /^(LATCHKEY_|pnpm_|npm_(package_|lifecycle_|execpath|node_execpath|config_user_agent))/i;
for (const name of Object.keys(env)) if (inherited.test(name)) delete env[name];

const steps = new Steps(env);
// Interrupted (Ctrl-C, CI cancelling): still nothing left running and no temp dir.
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`release dry run: ${signal} during step "${steps.step}"; cleaning up`);
    steps.stopAll().finally(() => {
      rmSync(temp, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
const fail = (message, output) => steps.fail(message, output);
const run = (command, args, options) => steps.run(command, args, options);
const lines = [];
const say = (line) => lines.push(line);

/** A copy of the workspace's release inputs, its packages' node_modules links included. */
function scratchCopy(scratch) {
  mkdirSync(scratch);
  const entries = ["package.json", "pnpm-workspace.yaml", "pnpm-lock.yaml", ".changeset"];
  for (const entry of [...entries, "turbo.json", "tsconfig.base.json", "packages"]) {
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
}

try {
  // 1. changeset version in a scratch copy of the workspace.
  steps.step = "changeset version";
  const scratch = join(temp, "workspace");
  scratchCopy(scratch);
  const packages = readdirSync(join(scratch, "packages"))
    .map((name) => join(scratch, "packages", name))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, manifest: readJson(join(dir, "package.json")) }));
  const publicPackages = packages.filter(({ manifest }) => manifest.private !== true);
  const privateNames = packages
    .filter((p) => p.manifest.private === true)
    .map((p) => p.manifest.name);
  const requested = requestedBumps(join(scratch, ".changeset"));
  if (requested.size === 0) fail("there are no changesets: nothing to release");
  run(join(root, "node_modules", ".bin", "changeset"), ["version"], { cwd: scratch });
  const versions = new Map();
  for (const { dir, manifest } of publicPackages) {
    const { name, version: before } = manifest;
    const version = readJson(join(dir, "package.json")).version;
    versions.set(name, version);
    const bump = bumpOf(before, version);
    if (bump === "none") fail(`${name} was not bumped (still ${version})`);
    if (bump === "major" && requested.get(name) !== "major") {
      fail(
        `${name} was bumped to a major (${before} -> ${version}) no changeset asked for; ` +
          "a peerDependency on a workspace package does that",
      );
    }
  }
  say(`changeset version: ${[...versions].map(([name, v]) => `${name}@${v}`).join(", ")}`);

  // 2. Build what depends on the version, pack, check the packed manifests.
  steps.step = "pack";
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
  for (const name of privateNames) {
    const slug = name.replace(/^@/, "").replace("/", "-");
    if (readdirSync(tarballs).some((file) => file.startsWith(slug))) fail(`${name} was packed`);
  }
  for (const [name, tarball] of tarballOf) {
    const packed = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"]).stdout);
    const listing = run("tar", ["-tzf", tarball]).stdout.split("\n");
    const problems = [...packedRangeProblems(packed, versions), ...packedFileProblems(listing)];
    if (problems.length) fail(`${name}'s tarball: ${problems.join("; ")}`);
  }
  const files = [...tarballOf.values()].map((file) => file.split("/").pop());
  say(`packed (${privateNames.join(", ")} private, not packed): ${files.join(" ")}`);

  // 3. Two fresh projects outside the workspace, installed with npm.
  steps.step = "npm install";
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
    steps.runAsync("npm", [...npmInstall, ...tarballOf.values()], {
      cwd: full,
      label: "all five packages",
    }),
    steps.runAsync("npm", [...npmInstall, "--omit=optional", ...withoutTesting], {
      cwd: bare,
      label: "the CLI without @latchkey/testing",
    }),
  ]);
  for (const name of ["@latchkey/testing", "jose"]) {
    if (existsSync(join(bare, "node_modules", name))) fail(`the CLI alone installed ${name}`);
  }
  say("npm install: all five packages; the CLI without @latchkey/testing, keytar or jose");

  // 4a. The CLI from the full install.
  const cliVersion = versions.get("@latchkey/cli");
  const home = join(temp, "home");
  mkdirSync(home);
  const userEnv = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
  };
  const cliOptions = (cwd) => ({ cwd, extraEnv: userEnv, timeoutMs: 60_000 });
  steps.step = "latchkey --version";
  const version = run("npx", ["--no", "--", "latchkey", "--version"], cliOptions(full));
  if (version.stdout.trim() !== cliVersion) {
    fail(`printed ${JSON.stringify(version.stdout.trim())}, not ${cliVersion}`, version.output);
  }
  steps.step = "latchkey demo";
  const latchkey = (project) => join(project, "node_modules", ".bin", "latchkey");
  const demo = run(latchkey(full), ["demo"], cliOptions(full));
  if (!/^Logged in:\s+yes$/m.test(demo.stdout) || !/^Subject:\s+alice$/m.test(demo.stdout)) {
    fail("its stdout holds no session summary", demo.output);
  }

  // 4b. Every file the installed manifests name is there.
  steps.step = "exports";
  for (const name of tarballOf.keys()) {
    const dir = join(full, "node_modules", ...name.split("/"));
    const missing = missingTargets(dir, readJson(join(dir, "package.json")));
    if (missing.length) fail(`${name} lacks ${missing.join(", ")}`);
  }

  // 4c. @latchkey/core in a browser bundle.
  steps.step = "browser bundle of @latchkey/core";
  const { build } = await import("esbuild");
  const entry = join(full, "browser-entry.mjs");
  writeFileSync(
    entry,
    'import * as core from "@latchkey/core";\nimport * as store from "@latchkey/core/store";\nglobalThis.latchkey = { core, store };\n',
  );
  const bundle = await build({
    entryPoints: [entry],
    absWorkingDir: full,
    bundle: true,
    platform: "browser",
    format: "esm",
    minify: true,
    write: false,
    logLevel: "silent",
  }).catch((error) => fail(error.message.split("\n").slice(0, 6).join("\n")));
  const text = bundle.outputFiles.map((file) => file.text).join("\n");
  const nodeImport = /["'`]node:[\w/]+["'`]/.exec(text);
  if (nodeImport) fail(`the bundle imports ${nodeImport[0]}`);
  say(`@latchkey/core for the browser: ${text.length} B minified, no node: import`);

  // 4d. A @latchkey/testing server from the install.
  steps.step = "@latchkey/testing server";
  const serverScript = `
    import { startFakeAuthorizationServer } from "@latchkey/testing";
    const server = await startFakeAuthorizationServer({});
    try {
      const response = await fetch(new URL("/.well-known/openid-configuration", server.issuer));
      const document = await response.json();
      if (document.issuer !== server.issuer) throw new Error("discovery names " + document.issuer);
    } finally {
      await server.close();
    }`;
  run(process.execPath, ["--input-type=module", "-e", serverScript], { cwd: full });

  // 4e. The latchkey-fake-idp bin, started and stopped.
  steps.step = "latchkey-fake-idp";
  const idp = await steps.startServer(join(full, "node_modules", ".bin", "latchkey-fake-idp"), {
    cwd: full,
  });
  if (idp.firstLine === undefined) fail("it ended before printing its JSON line", idp.output());
  const { issuer } = JSON.parse(idp.firstLine);
  const discovery = await fetch(new URL("/.well-known/openid-configuration", issuer));
  if (!discovery.ok) fail(`its discovery document answered ${discovery.status}`);
  const idpStatus = await idp.stop();
  if (idpStatus !== 0) fail(`it exited with ${idpStatus} on SIGTERM`, idp.output());
  say(
    `from the install: latchkey ${cliVersion}, demo logged in headlessly, ` +
      "a fake server and latchkey-fake-idp served discovery",
  );

  // 4f. The CLI installed without @latchkey/testing.
  steps.step = "CLI without @latchkey/testing";
  const bareVersion = run(latchkey(bare), ["--version"], cliOptions(bare));
  if (bareVersion.stdout.trim() !== cliVersion) {
    fail(`--version printed ${JSON.stringify(bareVersion.stdout.trim())}`, bareVersion.output);
  }
  const library =
    'const cli = await import("@latchkey/cli"); if (typeof cli.runCli !== "function") process.exit(1);';
  run(process.execPath, ["--input-type=module", "-e", library], { cwd: bare });
  const bareDemo = run(latchkey(bare), ["demo"], { ...cliOptions(bare), allowFailure: true });
  if (bareDemo.status !== 2)
    fail(`latchkey demo exited with ${bareDemo.status}, not 2`, bareDemo.output);
  if (!bareDemo.stderr.includes("npm i -g @latchkey/testing") || /^\s+at /m.test(bareDemo.stderr)) {
    fail("latchkey demo did not say clearly that @latchkey/testing is missing", bareDemo.output);
  }
  say(
    `without @latchkey/testing: --version and the library load; demo exits 2: ${bareDemo.stderr.trim().split("\n")[0]}`,
  );

  console.log(lines.join("\n"));
  console.log(`release dry run: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (error) {
  if (interrupted) await new Promise(() => {}); // the signal's clean-up ends the process
  if (lines.length) console.log(lines.join("\n"));
  const failure =
    error instanceof StepFailure
      ? error
      : new StepFailure(steps.step, error?.stack ?? String(error));
  const tail = (failure.output ?? "").trim().split("\n").slice(-25).join("\n");
  console.error(`release dry run FAILED at step "${failure.step}": ${failure.message}`);
  if (tail) console.error(tail);
  process.exitCode = 1;
} finally {
  // Nothing left running (an npm install beside a failed one, the fake-idp bin), then no files.
  await steps.stopAll();
  rmSync(temp, { recursive: true, force: true });
}
