/**
 * Keras' string names (`'adam'`, `"RMSprop"`, `'categorical_crossentropy'`, `'he_normal'`,
 * `'same'`): wherever a name is expected, a string is read as the nnx name it spells. The rule,
 * the same everywhere: the nnx name itself; else Keras' alias of it (`'acc'`, `'mean_squared_error'`);
 * else the one nnx name equal to it once case and underscores are ignored, which takes Keras'
 * class names (`'CategoricalCrossentropy'`, `'HeNormal'`) and spellings (`'rmsprop'`). `nnxc fmt`
 * rewrites such a string to the name.
 */

/** Ignores case and underscores: `RMSprop`, `rms_prop` and `RMSProp` are one spelling. */
export function foldSpelling(text: string): string {
  return text.toLowerCase().replace(/_/g, '');
}

/**
 * Keras' names that are not an nnx name spelled another way, by their folded spelling. No key
 * folds to the spelling of an nnx name (a test checks), so an alias never hides one.
 */
export const KERAS_ALIASES: Readonly<Record<string, string>> = {
  acc: 'accuracy',
  meansquarederror: 'mse',
  meanabsoluteerror: 'mae',
};

/** The nnx name among `names` that the string `text` spells, or undefined when none or several do. */
export function resolveSpelling(text: string, names: readonly string[]): string | undefined {
  if (names.includes(text)) return text;
  const key = foldSpelling(text);
  const alias = Object.hasOwn(KERAS_ALIASES, key) ? KERAS_ALIASES[key] : undefined;
  if (alias !== undefined && names.includes(alias)) return alias;
  const matches = names.filter((n) => foldSpelling(n) === key);
  return matches.length === 1 ? matches[0] : undefined;
}
