/**
 * A name's entry in a vocabulary table, only if the table itself defines it. Tables are plain
 * object literals, so `TABLE[name]` would also find `constructor`, `toString` or `__proto__`
 * from Object.prototype and hand a function or an object to code expecting an entry.
 */
export function own<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}
