/** Which server, client and store a `latchkey` run is about: see {@link cliArgs}. */
export interface CliTarget {
  /** `--issuer`. */
  issuer: string;
  /** `--client-id` (default `latchkey`, the fake server's public client). */
  clientId?: string;
  /** `--scope`, when given. */
  scope?: string;
  /** `--store` (default `file`). */
  store?: "file" | "keyring" | "auto";
  /** `--store-dir`. */
  storeDir: string;
}

/**
 * The argument block every CLI test repeats: `--issuer … --client-id … [--scope …] --store …
 * --store-dir …`, then `extra`.
 */
export function cliArgs(target: CliTarget, extra: readonly string[] = []): string[] {
  return [
    "--issuer",
    target.issuer,
    "--client-id",
    target.clientId ?? "latchkey",
    ...(target.scope === undefined ? [] : ["--scope", target.scope]),
    "--store",
    target.store ?? "file",
    "--store-dir",
    target.storeDir,
    ...extra,
  ];
}
