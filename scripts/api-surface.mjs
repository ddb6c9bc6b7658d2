// What a published package exposes, read from its build: for each entry of its package.json
// "exports", the runtime names (imported from the built JavaScript) and the type-only names (from
// the built .d.ts, with the TypeScript compiler API), and every exported declaration, or public
// member of an exported class, interface or object type, that carries no TSDoc summary.
// Used by scripts/check-api.mjs and by each package's test/public-api.test.ts.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

/** The entries of a package's "exports" that carry code: `[subpath, .d.ts path, .js path]`. */
export function entriesOf(packageDir) {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
  const entries = [];
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target !== "object" || target === null) continue;
    if (typeof target.types !== "string" || typeof target.default !== "string") continue;
    entries.push([subpath, resolve(packageDir, target.types), resolve(packageDir, target.default)]);
  }
  return { name: manifest.name, entries };
}

const hasSummary = (symbol, checker) =>
  ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim().length > 0;

const isHidden = (declaration) => {
  const flags = ts.getCombinedModifierFlags(declaration);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return true;
  const name = declaration.name;
  return name !== undefined && ts.isPrivateIdentifier(name);
};

/** The public members of an exported class, interface or object type that have no TSDoc. */
function undocumentedMembers(exportName, symbol, checker) {
  const missing = [];
  const inspect = (members, prefix) => {
    for (const member of members?.values() ?? []) {
      const declarations = member.getDeclarations() ?? [];
      if (declarations.length === 0 || declarations.some(isHidden)) continue;
      if (member.escapedName === "prototype") continue;
      if (member.flags & ts.SymbolFlags.TypeParameter) continue;
      if (!hasSummary(member, checker)) missing.push(`${exportName}${prefix}${member.getName()}`);
    }
  };
  if (symbol.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface)) {
    inspect(symbol.members, ".");
    if (symbol.flags & ts.SymbolFlags.Class) inspect(symbol.exports, ".");
  } else if (symbol.flags & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Variable)) {
    // An object type written out (`type X = { ... }`, or an `as const` map's declared type).
    const declaration = symbol
      .getDeclarations()
      ?.find((d) => ts.isTypeAliasDeclaration(d) || ts.isVariableDeclaration(d));
    if (declaration?.type && ts.isTypeLiteralNode(declaration.type)) {
      const type = checker.getTypeAtLocation(declaration.type);
      inspect(new Map(type.getProperties().map((p) => [p.escapedName, p])), ".");
    }
  }
  // A constructor documented by its class is documented.
  return missing.filter((name) => !name.endsWith(".__constructor"));
}

/**
 * Describes every entry of the package in `packageDir` (built): `{ name, entries: [{ subpath,
 * runtime, types, undocumented }] }`, names sorted.
 */
export async function describePackage(packageDir) {
  const { name, entries } = entriesOf(packageDir);
  const program = ts.createProgram({
    rootNames: entries.map(([, dts]) => dts),
    options: {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      noLib: true,
      noEmit: true,
      types: [],
    },
  });
  const checker = program.getTypeChecker();
  const described = [];
  for (const [subpath, dts, js] of entries) {
    const source = program.getSourceFile(dts);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${name}${subpath.slice(1)}: cannot read ${dts}`);
    const runtime = Object.keys(await import(pathToFileURL(js).href)).sort();
    const runtimeSet = new Set(runtime);
    const types = [];
    const undocumented = [];
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const exportName = exported.getName();
      if (!runtimeSet.has(exportName)) types.push(exportName);
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!hasSummary(symbol, checker)) undocumented.push(exportName);
      undocumented.push(...undocumentedMembers(exportName, symbol, checker));
    }
    described.push({ subpath, runtime, types: types.sort(), undocumented: undocumented.sort() });
  }
  return { name, entries: described };
}

/** `describePackage` without the documentation check: `{ [subpath]: { runtime, types } }`. */
export async function publicApi(packageDir) {
  const { entries } = await describePackage(packageDir);
  return Object.fromEntries(
    entries.map(({ subpath, runtime, types }) => [subpath, { runtime, types }]),
  );
}
