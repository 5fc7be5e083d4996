import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LayeredMap } from '../../src/model/layered-map.js';

describe('LayeredMap', () => {
  const base = new Map([
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ]);
  const map = new LayeredMap(
    base,
    new Map<string, number | undefined>([
      ['b', 20],
      ['c', undefined],
      ['d', 4],
      ['e', undefined],
    ]),
  );

  it('reads changes over the base: replaced, removed, added, and a removal of a missing key', () => {
    assert.equal(map.get('a'), 1);
    assert.equal(map.get('b'), 20);
    assert.equal(map.get('c'), undefined);
    assert.equal(map.has('c'), false);
    assert.equal(map.get('d'), 4);
    assert.equal(map.has('e'), false);
    assert.equal(map.size, 3);
  });

  it('iterates every live entry once, as a Map would', () => {
    assert.deepEqual(
      new Map(map),
      new Map([
        ['a', 1],
        ['b', 20],
        ['d', 4],
      ]),
    );
    assert.deepEqual([...map.keys()].sort(), ['a', 'b', 'd']);
    assert.deepEqual([...map.values()].sort(), [1, 20, 4].sort());
    const seen: string[] = [];
    map.forEach((value, key) => {
      seen.push(`${key}=${value}`);
    });
    assert.deepEqual(seen.sort(), ['a=1', 'b=20', 'd=4']);
  });
});
