import { configFilePath, profileNames } from "./profile.js";

/** The exit codes of docs/cli.md, as the top-level help lists them. */
const EXIT_CODES: [number, string][] = [
  [0, "success"],
  [1, "unexpected internal error"],
  [2, "usage or configuration error (bad flag, missing client id, unreadable config)"],
  [
    3,
    "authentication failed: access denied, state/iss mismatch, invalid ID token, refresh rejected",
  ],
  [4, "login needed but not allowed (token --no-login, refresh or status when logged out)"],
  [5, "network or server error: unreachable, TLS failure, 5xx, timeout"],
  [130, "interrupted (Ctrl-C)"],
];

/**
 * What `latchkey --help` shows after the commands: the config file (its path for this user, its
 * format, its profiles), the exit codes and three examples. Never fails: a config file that
 * cannot be read is said to be so.
 */
export function topLevelHelp(env: Readonly<Record<string, string | undefined>>): string {
  const { path } = configFilePath(env);
  let profiles: string;
  try {
    const names = profileNames(env);
    profiles = names.length ? names.join(", ") : "(none yet)";
  } catch (error) {
    profiles = `(the file cannot be read: ${(error as Error).message})`;
  }
  return `
Configuration:
  Flags > LATCHKEY_<FLAG> environment variables (LATCHKEY_ISSUER, LATCHKEY_CLIENT_ID, ...)
  > the profile in the config file > defaults. Each command's --help lists its flags.
  Config file: ${path}
    (from $LATCHKEY_CONFIG, else $XDG_CONFIG_HOME/latchkey/config.json, else ~/.config/latchkey/config.json)
  Format (JSON; keys are the long flag names):
    {"profiles": {"default": {"issuer": "https://id.example.com", "client-id": "my-cli",
                              "scope": ["openid", "offline_access"]},
                  "work": {"issuer": "https://sso.example.org", "client-id": "kubectl"}}}
  Profiles: ${profiles} (choose one with --profile NAME or LATCHKEY_PROFILE; default "default")

Exit codes:
${EXIT_CODES.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`).join("\n")}

Examples:
  # Log in (a browser opens; without one, the device or paste flow)
  latchkey login --issuer https://id.example.com --client-id my-cli
  # A script: a valid access token on every call, refreshed as needed
  curl -H "$(latchkey token --format header)" https://api.example.com/me
  # kubectl: a kubeconfig whose user runs latchkey token --format exec-credential
  latchkey kubeconfig --server https://k8s.example.com:6443 > ~/.kube/latchkey.yaml
  KUBECONFIG=~/.kube/latchkey.yaml kubectl get pods
`;
}
