// The commands are files (src/commands/<name>.ts), and the program is built from their list:
// a command added as a file and listed is a command of the bin, with its own definition and
// run, and its help line is its description.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../src/commands/index.js";
import * as definitions from "../src/options.js";
import { latchkey } from "./helpers.js";

const DIR = fileURLToPath(new URL("../src/commands/", import.meta.url));

describe("commands as files", () => {
  it("lists every file of src/commands once, under its file's name, each with its definition and run", async () => {
    const files = readdirSync(DIR)
      .filter((file) => file.endsWith(".ts") && file !== "index.ts")
      .map((file) => file.slice(0, -3));
    expect(COMMANDS.map((command) => command.name).sort()).toEqual(files.sort());
    for (const command of COMMANDS) {
      const made = command.options(definitions);
      expect(made.name()).toBe(command.name);
      expect(made.description()).toBe(command.description);
      expect(made.options.length).toBeGreaterThan(0);
      expect(typeof command.run).toBe("function");
    }
  });

  it("the bin's help lists the commands of the list, in its order, with their descriptions", async () => {
    const help = await latchkey(["--help"]);
    expect(help.code).toBe(0);
    // commander wraps the descriptions: compare the section with its white space collapsed.
    const section = help.stdout.split("\nCommands:\n")[1]?.split("\n\n")[0] ?? "";
    const expected = COMMANDS.map((command) => `${command.name} [options] ${command.description}`);
    expect(section.replace(/\s+/g, " ").trim()).toBe(
      [...expected, "help [command] display help for command"].join(" "),
    );
  });
});
