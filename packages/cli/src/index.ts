export { ExitCode, exitCodeFor } from "./exit-codes.js";
export type { CliEnvironment } from "./main.js";
export { runCli } from "./main.js";
