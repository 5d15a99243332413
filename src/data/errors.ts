/** The error every loader and data check throws for a problem the user can fix. */

/**
 * A dataset that cannot be read or does not fit the model. The message names the file or the
 * dataset and what is wrong with it; the CLI prints it as one line (or a diagnostic at the
 * train block's `data:` field) and exits 1.
 */
export class DatasetError extends Error {
  override name = 'DatasetError';
}
