import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanText, parseWrittenDate } from '../../extension/sites/util.js';

describe('parseWrittenDate', () => {
  for (const [text, expected] of [
    ['Scritta il 14 settembre 2026', '2026-09-14'],
    ['Written 3 October 2026', '2026-10-03'],
    ['September 12, 2019', '2019-09-12'],
    ['2 g', null],
    ['30 maggio alle ore 11:02', null],
    ['a week ago', null],
    ['32 maggio 2026', null],
    ['', null],
    [null, null],
  ]) {
    it(`${JSON.stringify(text)} → ${expected}`, () => assert.equal(parseWrittenDate(text), expected));
  }

  it('keeps the time of day with the browser offset', () => {
    assert.match(parseWrittenDate('venerdì 20 novembre 2026 alle ore 18:31'), /^2026-11-20T18:31:00[+-]\d\d:\d\d$/);
    assert.match(parseWrittenDate('Friday, 20 November 2026 at 18:31'), /^2026-11-20T18:31:00[+-]\d\d:\d\d$/);
  });
});

describe('cleanText', () => {
  it('collapses spaces, trims lines and empty runs', () => {
    assert.equal(cleanText('  a\u00a0\u00a0 b \n\n\n\n  c  '), 'a b\n\nc');
  });
});
