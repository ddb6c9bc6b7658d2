// Types of api-surface.mjs, for the packages' test/public-api.test.ts.

/** The names one entry of a package exports: runtime values, and names that are types only. */
export interface EntryNames {
  runtime: string[];
  types: string[];
}

/** One entry's names and the exports (or public members) without a TSDoc summary. */
export interface DescribedEntry extends EntryNames {
  subpath: string;
  undocumented: string[];
}

/** The entries of a package's "exports" that carry code: `[subpath, .d.ts path, .js path]`. */
export function entriesOf(packageDir: string): {
  name: string;
  entries: [subpath: string, dts: string, js: string][];
};

/** Every entry of the built package in `packageDir`, names sorted. */
export function describePackage(
  packageDir: string,
): Promise<{ name: string; entries: DescribedEntry[] }>;

/** `{ [subpath]: { runtime, types } }` of the built package in `packageDir`. */
export function publicApi(packageDir: string): Promise<Record<string, EntryNames>>;
