/**
 * CSV files as datasets: a header row names the columns; one column is the label, every other
 * column is a numeric feature. A label column with any non-numeric value holds class names
 * (numbered in order of first appearance); a numeric one holds values.
 */

import { DatasetError } from './errors.js';
import type { Labels, SampleSet } from './samples.js';

/** One CSV record: its fields and the 1-based line it starts on. */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/** Splits CSV text into rows of fields (RFC 4180: quoted fields, `""` inside quotes, CRLF or LF). */
export function parseCsvRows(text: string): string[][] {
  return parseCsvRecords(text).map((r) => r.fields);
}

/**
 * The records of CSV text with the line each starts on (counting blank lines, which are
 * dropped, and line breaks inside quoted fields), so that errors name the line of the file.
 */
export function parseCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    row.push(field);
    if (!(row.length === 1 && row[0]!.trim() === '')) records.push({ fields: row, line: rowLine });
    row = [];
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
      if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += c;
  }
  if (field !== '' || row.length > 0) endRow();
  return records;
}

/** Reads CSV text as samples; `source` names the file in errors, `label` the label column. */
export function csvSamples(text: string, source: string, label: string): SampleSet {
  const [headerRecord, ...records] = parseCsvRecords(text);
  const header = headerRecord?.fields;
  const rows = records.map((r) => r.fields);
  if (header === undefined || rows.length === 0) {
    throw new DatasetError(`${source} has no data rows (the first row must name the columns)`);
  }
  const names = header.map((h) => h.trim());
  const labelColumn = names.indexOf(label);
  if (labelColumn < 0) {
    throw new DatasetError(`${source} has no column '${label}'; its columns are: ${names.join(', ')}`);
  }
  const featureColumns = names.map((_, i) => i).filter((i) => i !== labelColumn);
  const features = new Float32Array(rows.length * featureColumns.length);
  rows.forEach((row, r) => {
    if (row.length !== names.length) {
      throw new DatasetError(
        `${source}:${records[r]!.line}: the row has ${row.length} fields, the header names ${names.length} columns`,
      );
    }
    featureColumns.forEach((column, f) => {
      const value = Number(row[column]!.trim());
      if (row[column]!.trim() === '' || !Number.isFinite(value)) {
        throw new DatasetError(
          `${source}:${records[r]!.line}: column '${names[column]}' holds '${row[column]}', not a number; ` +
            `only the label column may hold names`,
        );
      }
      features[r * featureColumns.length + f] = value;
    });
  });
  return {
    count: rows.length,
    featureShape: [featureColumns.length],
    features,
    labels: labelsOf(rows.map((row) => row[labelColumn]!.trim())),
  };
}

function labelsOf(texts: readonly string[]): Labels {
  const numbers = texts.map(Number);
  if (texts.every((t, i) => t !== '' && Number.isFinite(numbers[i]))) {
    return { kind: 'values', shape: [1], values: Float32Array.from(numbers) };
  }
  const classes: string[] = [];
  const byName = new Map<string, number>();
  const indices = Int32Array.from(texts, (t) => {
    let index = byName.get(t);
    if (index === undefined) {
      index = classes.length;
      byName.set(t, index);
      classes.push(t);
    }
    return index;
  });
  return { kind: 'classes', classes, indices };
}
