import type { CommandModule } from "../command.js";
import * as demo from "./demo.js";
import * as kubeconfig from "./kubeconfig.js";
import * as login from "./login.js";
import * as logout from "./logout.js";
import * as refresh from "./refresh.js";
import * as status from "./status.js";
import * as token from "./token.js";

/**
 * @internal Every command, in help order: the program (program.ts) is built from this list.
 * `latchkey token`'s quick path (main.ts) loads `token.ts` alone, never this list.
 */
export const COMMANDS: readonly CommandModule[] = [
  login,
  token,
  refresh,
  logout,
  status,
  demo,
  kubeconfig,
];
