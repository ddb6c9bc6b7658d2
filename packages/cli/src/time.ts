// The one way the CLI writes a point in time, in its output and its messages (docs/cli.md).

/**
 * A time in ms since the epoch as a `Date` that RFC 3339 can write (years 1970 to 9999): a
 * record written by an older version may hold an absurd `expiresAt` (issue 13), which must
 * still print rather than throw.
 */
export function printableDate(ms: number): Date {
  return new Date(Math.min(Math.max(ms, 0), 253_402_300_799_000) || 0);
}

/** RFC 3339 in UTC, whole seconds: `2026-12-02T10:00:00Z`; clamped as {@link printableDate} says. */
export function rfc3339(ms: number): string {
  return printableDate(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
}

/** Whole seconds from `now` to `ms` (both in ms), 0 when past, at most until year 9999. */
export function secondsUntil(ms: number, now: number): number {
  return Math.max(0, Math.floor((printableDate(ms).getTime() - now) / 1000));
}
