// Preloaded with --import into every measured process: reports its peak RSS (KiB) on fd 3.
import { writeSync } from "node:fs";

process.on("exit", () => {
  try {
    writeSync(3, `${process.resourceUsage().maxRSS}\n`);
  } catch {
    // fd 3 not open: not measured
  }
});
