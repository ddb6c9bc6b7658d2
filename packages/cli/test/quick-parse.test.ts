// The bin parses plain `latchkey token` invocations itself (src/quick-parse.ts). Whatever it
// accepts, it must read exactly as commander does: the same values and the same sources
// (default, cli, env), since the config-file profile and the boolean environment rules depend on
// the sources. Whatever it is unsure of, it must leave to commander.
import type { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import * as token from "../src/commands/token.js";
import * as definitions from "../src/options.js";
import { describeOptions, type OptionTable, quickParse } from "../src/quick-parse.js";

const { collect } = definitions;
/** `latchkey token`'s commander definition, as the program and the bundle script build it. */
const tokenCommand = (): Command => token.options(definitions);

const table: OptionTable = describeOptions(tokenCommand(), (option) => option.parseArg === collect);
const keys = table.options.map((option) => option.key);

const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("LATCHKEY_")) delete process.env[name];
  }
  Object.assign(process.env, saved);
});

interface Parsed {
  flags: Record<string, unknown>;
  sources: Record<string, string | undefined>;
}

/** What commander makes of the arguments (it reads process.env), or "error". */
async function commander(args: string[], env: Record<string, string>): Promise<Parsed | "error"> {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("LATCHKEY_")) delete process.env[name];
  }
  Object.assign(process.env, env);
  let parsed: Parsed | undefined;
  const command: Command = tokenCommand()
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .action((flags: Record<string, unknown>, self: Command) => {
      parsed = {
        flags: { ...flags },
        sources: Object.fromEntries(keys.map((key) => [key, self.getOptionValueSource(key)])),
      };
    });
  try {
    await command.parseAsync(args, { from: "user" });
  } catch {
    return "error";
  }
  return parsed ?? "error";
}

function quick(args: string[], env: Record<string, string>): Parsed | undefined {
  const result = quickParse(args, env, table);
  if (!result) return undefined;
  return {
    flags: result.flags,
    sources: Object.fromEntries(keys.map((key) => [key, result.command.getOptionValueSource(key)])),
  };
}

async function same(args: string[], env: Record<string, string> = {}): Promise<void> {
  const mine = quick(args, env);
  const theirs = await commander(args, env);
  if (mine === undefined) return; // left to commander: nothing to compare
  expect(theirs, `${args.join(" ")} ${JSON.stringify(env)}`).toEqual(mine);
}

describe("quick parse of latchkey token", () => {
  it("the table is commander's: every option of token, its environment variable and default", () => {
    expect(keys).toEqual(
      expect.arrayContaining(["issuer", "clientId", "format", "login", "scope"]),
    );
    expect(table.defaults).toEqual({
      format: "raw",
      minValidity: "60",
      browser: true,
      login: true,
    });
    const scope = table.options.find((option) => option.key === "scope");
    expect(scope).toMatchObject({ long: "--scope", env: "LATCHKEY_SCOPE", repeatable: true });
    const verbose = table.options.find((option) => option.key === "verbose");
    expect(verbose).toMatchObject({ short: "-v", takesValue: false });
  });

  it.each([
    [[]],
    [["--no-login", "--issuer", "https://idp.example", "--client-id", "cli"]],
    [["--issuer=https://idp.example", "--client-id=cli", "--store", "file", "--store-dir", "/x"]],
    [["--scope", "openid", "--scope", "profile email", "--resource=https://api"]],
    [["--format", "exec-credential", "--min-validity", "120", "-v"]],
    [["--id-token", "--format", "exec-credential", "--no-login"]],
    [["--format=json", "-q", "--no-browser", "--insecure-skip-tls-verify"]],
    [["--profile", "work", "--profile", "home"]],
    [["--issuer="]],
    [["--auth-param", "a=1", "--token-param", "b=2", "--refresh-param", "c=3"]],
  ])("reads %j as commander does", async (args) => {
    expect(quick(args, {})).toBeDefined();
    await same(args);
  });

  it("reads the environment as commander does: values, booleans, negations, lists, and flags winning", async () => {
    const cases: [string[], Record<string, string>][] = [
      [[], { LATCHKEY_ISSUER: "https://idp.example", LATCHKEY_CLIENT_ID: "cli" }],
      [["--issuer", "https://flag.example"], { LATCHKEY_ISSUER: "https://env.example" }],
      [[], { LATCHKEY_VERBOSE: "1", LATCHKEY_QUIET: "0", LATCHKEY_NO_LOGIN: "" }],
      [["--no-login"], { LATCHKEY_NO_LOGIN: "false", LATCHKEY_NO_BROWSER: "yes" }],
      [["--scope", "a"], { LATCHKEY_SCOPE: "b", LATCHKEY_RESOURCE: "https://r" }],
      [[], { LATCHKEY_FORMAT: "header", LATCHKEY_MIN_VALIDITY: "0" }],
      [["--format", "raw"], { LATCHKEY_FORMAT: "json" }],
      [[], { LATCHKEY_STORE_DIR: "", LATCHKEY_PROFILE: "p" }],
      [[], { LATCHKEY_ID_TOKEN: "1" }],
      [["--id-token"], { LATCHKEY_ID_TOKEN: "0" }],
    ];
    for (const [args, env] of cases) {
      expect(quick(args, env), JSON.stringify([args, env])).toBeDefined();
      await same(args, env);
    }
  });

  it.each([
    [["--help"]],
    [["-h"]],
    [["--version"]],
    [["--"]],
    [["extra"]],
    [["-vq"]],
    [["--unknown"]],
    [["--login"]],
    [["--verbose=1"]],
    [["--issuer"]],
    [["--issuer", "--client-id", "cli"]],
    [["--format", "yaml"]],
    [["--format=xml"]],
  ])("leaves %j to commander", (args) => {
    expect(quick(args, {})).toBeUndefined();
  });

  it("leaves an environment value outside the choices to commander", () => {
    expect(quick([], { LATCHKEY_FORMAT: "yaml" })).toBeUndefined();
  });

  it("agrees with commander on 3000 random invocations", async () => {
    // A small deterministic generator (mulberry32), so that a failure can be replayed.
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const values = ["x", "json", "raw", "header", "1", "", "-x", "a=b", "https://idp.example"];
    const names = table.options.flatMap((option) =>
      option.short ? [option.long, option.short] : [option.long],
    );
    const oddities = ["--", "extra", "-vq", "--help", "--nope", "-x"];
    let accepted = 0;
    for (let run = 0; run < 3000; run++) {
      const args: string[] = [];
      const count = Math.floor(random() * 6);
      for (let i = 0; i < count; i++) {
        const roll = random();
        const name = pick(names);
        if (roll < 0.05) args.push(pick(oddities));
        else if (roll < 0.35) args.push(`${name}=${pick(values)}`);
        else args.push(name, pick(values));
      }
      const env: Record<string, string> = {};
      for (const option of table.options) {
        if (option.env && random() < 0.08) env[option.env] = pick(values);
      }
      if (quick(args, env)) accepted++;
      await same(args, env);
    }
    // The comparison means something only if the quick parser took a good share of them.
    expect(accepted).toBeGreaterThan(300);
  });
});
