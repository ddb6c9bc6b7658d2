const defaultOwner = {};

/**
 * @internal The table `tables` keeps for `owner` (a transport, a store; `undefined` is the
 * global `fetch`), created on first use: what one owner caches is never served to another.
 */
export function tableFor<V>(
  tables: WeakMap<object, Map<string, V>>,
  owner: object | undefined,
): Map<string, V> {
  const key = owner ?? defaultOwner;
  let table = tables.get(key);
  if (!table) {
    table = new Map();
    tables.set(key, table);
  }
  return table;
}
