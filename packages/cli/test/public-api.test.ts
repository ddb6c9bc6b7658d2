// The public surface of @latchkey/cli, read from its build (scripts/api-surface.mjs): the program
// is the CLI; the package entry only lets a program run it and map errors to exit codes.
import { testPublicApi } from "@latchkey/test-utils";

testPublicApi(new URL("..", import.meta.url), {
  ".": {
    runtime: ["ExitCode", "exitCodeFor", "runCli"],
    types: ["CliEnvironment"],
  },
});
