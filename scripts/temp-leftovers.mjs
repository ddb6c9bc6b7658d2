// What the tests leave behind. scripts/test-all.mjs runs the test step with TMPDIR pointing at a
// fresh directory (`freshTempDir()`); afterwards `leftovers(dir)` lists every entry still in it
// and every process still running with that TMPDIR in its environment (a fake server, a D-Bus or
// keyring daemon, a Chromium the tests started and did not stop). Both must be empty.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A new, empty directory for the tests' temporary files (under the machine's temp dir). */
export function freshTempDir() {
  return mkdtempSync(join(tmpdir(), "latchkey-test-all-"));
}

/** The processes (other than this one) whose environment has TMPDIR=dir, as "pid command". */
function processesUsing(dir) {
  const found = [];
  let pids = [];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return found; // not Linux: only the files are checked
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "latin1").split("\0");
      if (!environ.includes(`TMPDIR=${dir}`)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0").join(" ").trim();
      found.push(`process ${pid}: ${command || readlinkSync(`/proc/${pid}/exe`)}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * What is left of the tests in `dir`: one line per entry ("file NAME") and per process still
 * running with TMPDIR=dir. Empty when the tests cleaned up after themselves.
 */
export function leftovers(dir) {
  let entries = [];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [`${dir} is gone`];
  }
  return [...entries.map((name) => `file ${join(dir, name)}`), ...processesUsing(dir)];
}

/** Removes `dir` and what is in it (after the leftovers were reported). */
export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
}
