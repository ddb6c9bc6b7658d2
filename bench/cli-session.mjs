// What the benchmarks that run the `latchkey` bin share: its file-store arguments and the
// environment of a user without a display (no browser opens, no colours).

/** `--issuer … --client-id latchkey --store file --store-dir DIR`. */
export function fileStoreArgs(issuer, storeDir) {
  return [
    "--issuer",
    issuer,
    "--client-id",
    "latchkey",
    "--store",
    "file",
    "--store-dir",
    storeDir,
  ];
}

/** This process's environment without `DISPLAY`, with `NO_COLOR`. */
export function headlessEnv() {
  const env = { ...process.env, NO_COLOR: "1" };
  delete env.DISPLAY;
  return env;
}
