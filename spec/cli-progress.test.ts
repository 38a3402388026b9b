/**
 * The progress bar's width: the terminal's, or a fallback when the terminal reports 0 (or an
 * implausibly small width), so that the rate and the time left are never cut away.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { barWidth } from '../cli/progress.js';

describe('progress bar width', () => {
  test('the terminal\'s width when it reports one; 100 columns when it reports 0, none or a few', () => {
    assert.equal(barWidth(120), 120);
    assert.equal(barWidth(80), 80);
    assert.equal(barWidth(40), 40);
    for (const bad of [0, 1, 12, undefined, Number.NaN]) assert.equal(barWidth(bad), 100, String(bad));
  });
});
