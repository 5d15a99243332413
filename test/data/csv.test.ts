/** CSV datasets: quoting, class names and numeric labels, and errors that name the line. */
import { describe, expect, it } from 'vitest';
import { csvSamples, parseCsvRows } from '../../src/data/index.js';

describe('parseCsvRows', () => {
  it('handles quotes, doubled quotes, CRLF and a missing final newline', () => {
    expect(parseCsvRows('a,"b,c","say ""hi"""\r\n1,2,3')).toEqual([
      ['a', 'b,c', 'say "hi"'],
      ['1', '2', '3'],
    ]);
  });
});

describe('csvSamples', () => {
  const flowers = 'sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n4.9,1.5,setosa\n';

  it('takes the label column by name and numbers class names by first appearance', () => {
    const set = csvSamples(flowers, 'f.csv', 'species');
    expect(set.count).toBe(3);
    expect(set.featureShape).toEqual([2]);
    expect([...set.features]).toEqual([5.1, 1.4, 7.0, 4.7, 4.9, 1.5].map(Math.fround));
    expect(set.labels).toEqual({
      kind: 'classes',
      classes: ['setosa', 'versicolor'],
      indices: Int32Array.from([0, 1, 0]),
    });
  });

  it('reads a numeric label column as values, wherever it is', () => {
    const set = csvSamples('y,x\n1.5,2\n-3,4\n', 'r.csv', 'y');
    expect(set.labels).toEqual({ kind: 'values', shape: [1], values: Float32Array.from([1.5, -3]) });
    expect([...set.features]).toEqual([2, 4]);
  });

  it('names the file, line and column of a bad value, and a missing label column', () => {
    expect(() => csvSamples('a,b,label\n1,x,2\n', 'bad.csv', 'label')).toThrow(
      "bad.csv:2: column 'b' holds 'x', not a number",
    );
    expect(() => csvSamples('a,b\n1,2\n', 'bad.csv', 'species')).toThrow(
      "bad.csv has no column 'species'; its columns are: a, b",
    );
    expect(() => csvSamples('a,b\n1,2,3\n', 'bad.csv', 'b')).toThrow(
      'bad.csv:2: the row has 3 fields, the header names 2 columns',
    );
  });

  it('counts blank lines and line breaks in quotes in the line an error names', () => {
    expect(() => csvSamples('a,b,label\n\n1,2,3\n\r\n\n1,x,2\n', 'bad.csv', 'label')).toThrow(
      "bad.csv:6: column 'b' holds 'x', not a number",
    );
    expect(() => csvSamples('a,label\r\n1,"two\r\nlines"\r\n\r\n1,2,3\r\n', 'bad.csv', 'label')).toThrow(
      'bad.csv:5: the row has 3 fields, the header names 2 columns',
    );
  });
});
