import { describe, expect, it } from 'vitest';
import { findDuplicateKey } from './jsonKeys';

describe('findDuplicateKey', () => {
  it.each([
    ['{"a": 1, "b": 2}', null],
    ['{"a": 1, "a": 2}', { path: [], key: 'a' }],
    ['{"a": {"x": [1, {"y": 1, "y": 2}], "x": 3}}', { path: ['a'], key: 'x' }],
    ['{"a": "}\\"{", "b": {"s": "a\\\\"}, "b": 0}', { path: [], key: 'b' }],
    ['{"a": [[[[{"k": 1, "k": 2}]]]]}', null], // deeper than maxDepth: skipped
    ['{"\\u00e9": 1, "é": 2}', { path: [], key: 'é' }],
    ['  {  "a" : true ,"b":null , "c" : -1.5e3 }  ', null],
  ])('%s', (text, expected) => {
    JSON.parse(text);
    expect(findDuplicateKey(text)).toEqual(expected);
  });

  it('skips deeply nested values without recursion', () => {
    const deep = `{"a": ${'['.repeat(100000)}${']'.repeat(100000)}, "a": 1}`;
    expect(findDuplicateKey(deep)).toEqual({ path: [], key: 'a' });
  });
});
