import { describe, expect, it } from 'vitest';
import { describeJson } from './describeJson';

describe('describeJson', () => {
  it('writes small values exactly as JSON.stringify does', () => {
    for (const v of [null, true, 0, -1.5, 'F32', '', [], {}, [1, 2, 3], { a: [1, { b: 'c' }] }, [[2, 3], [4]]]) {
      expect(describeJson(v)).toBe(JSON.stringify(v));
    }
  });

  it('shows what JSON cannot: undefined and non-finite numbers', () => {
    expect([describeJson(undefined), describeJson(Infinity), describeJson(-Infinity), describeJson(NaN)]).toEqual([
      'undefined',
      'Infinity',
      '-Infinity',
      'NaN',
    ]);
  });

  it('stops at depth 3, after 8 items and at the length cap, without recursing into deep values', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep]; // JSON.stringify overflows the stack here
    expect(describeJson(deep)).toBe('[[[[…]]]]');
    expect(describeJson(Array.from({ length: 1000 }, (_, i) => i))).toBe('[0,1,2,3,4,5,6,7,…]');
    expect(describeJson({ __proto__: null, a: { b: { c: { d: 1 } } } })).toBe('{"a":{"b":{"c":{…}}}}');
    const long = describeJson('x'.repeat(10_000));
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });
});
