// The one way the CLI writes a point in time, in its output and its messages (docs/cli.md).

/** RFC 3339 in UTC, whole seconds: `2026-12-02T10:00:00Z`. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
