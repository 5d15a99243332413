/**
 * A table's own entry for `key`, never one inherited from `Object.prototype`: a user's name
 * such as `constructor` or `toString` must look up nothing, not a built-in function.
 */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
