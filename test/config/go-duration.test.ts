import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatGoDuration, parseGoDuration } from '../../src/config/go-duration.js';

describe('Go durations', () => {
  const accepted: [string, number][] = [
    ['0', 0],
    ['0s', 0],
    ['30s', 30_000],
    ['1h0m0s', 3_600_000],
    ['1m30s', 90_000],
    ['2h22m', 8_520_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.s', 1000],
    ['250us', 0.25],
    ['250\u00b5s', 0.25],
    ['1ns', 0.000001],
    ['-2m', -120_000],
    ['+3s', 3000],
    ['24h', 86_400_000],
    ['2562047h', 2562047 * 3_600_000],
  ];
  for (const [text, millis] of accepted) {
    it(`reads ${text} as ${millis} ms`, () => assert.equal(parseGoDuration(text), millis));
  }

  const rejected = [
    '',
    '30',
    '1',
    's',
    '.s',
    '1d',
    '1 s',
    '1S',
    '- 1s',
    '1s2',
    '3000000h',
    'ten seconds',
    '1.2.3s',
  ];
  for (const text of rejected) {
    it(`rejects ${JSON.stringify(text)} as Go does`, () => assert.equal(parseGoDuration(text), undefined));
  }

  const formatted: [number, string][] = [
    [0, '0s'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
    [86_400_000, '24h0m0s'],
    [900_000, '15m0s'],
    [1500, '1.5s'],
    [500, '500ms'],
    [0.25, '250\u00b5s'],
    [0.000001, '1ns'],
    [-120_000, '-2m0s'],
  ];
  for (const [millis, text] of formatted) {
    it(`writes ${millis} ms as ${text}, as Go's Duration.String does`, () => {
      assert.equal(formatGoDuration(millis), text);
      assert.equal(parseGoDuration(text), millis);
    });
  }
});
