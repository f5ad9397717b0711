// The maintainer's tool, run as a real subprocess over every fixture.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FIXTURES, PAYLOAD_FIELDS, fixtureNames } from './helpers.js';

const run = promisify(execFile);
const TOOL = fileURLToPath(new URL('../../extension/tools/extract-saved-page.mjs', import.meta.url));
const fixture = (name) => fileURLToPath(new URL(name, FIXTURES));

describe('extract-saved-page.mjs', () => {
  for (const name of fixtureNames()) {
    it(`prints payload-shaped objects for ${name}`, async () => {
      const { stdout } = await run(process.execPath, [TOOL, fixture(name)]);
      const items = JSON.parse(stdout);
      assert.ok(Array.isArray(items));
      for (const item of items) {
        assert.deepEqual(Object.keys(item).sort(), [...PAYLOAD_FIELDS].sort());
        assert.ok(item.text.length > 0, 'every listed comment has text');
        assert.ok(item.rating === null || (Number.isInteger(item.rating) && item.rating >= 1 && item.rating <= 5));
        assert.deepEqual(Object.keys(item.author).sort(), ['badge', 'name', 'profile_url']);
      }
    });
  }

  it('--url overrides the saved-from comment and picks the extractor', async () => {
    const { stdout } = await run(process.execPath, [TOOL, '--url', 'https://example.org/page', fixture('facebook-post-it.html')]);
    const items = JSON.parse(stdout);
    assert.ok(items.length > 0);
    assert.ok(items.every((item) => item.platform === 'other' && item.page_url === 'https://example.org/page'));
  });

  it('the no-comments page prints an empty array', async () => {
    const { stdout } = await run(process.execPath, [TOOL, fixture('facebook-recommendation-nocomments-en.html')]);
    assert.deepEqual(JSON.parse(stdout), []);
  });

  for (const [args, message] of [
    [[], /exactly one saved page/],
    [['--url', 'not a url', 'x.html'], /no such file|ENOENT|not a URL/],
    [['--url'], /needs a value/],
  ]) {
    it(`fails clearly with ${JSON.stringify(args)}`, async () => {
      await assert.rejects(run(process.execPath, [TOOL, ...args]), (error) => {
        assert.notEqual(error.code, 0);
        assert.match(error.stderr, message);
        return true;
      });
    });
  }
});
