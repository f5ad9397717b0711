// Every fixture against its sidecar <name>.expected.json, on the saved copy and on the indented copy
// (fixtures/indented/, made by indent-fixture.mjs). Prints, per site, how many fields were extracted
// correctly over all comments of the real saved pages (the hand-made pages are left out of the table).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { JSDOM, VirtualConsole } from 'jsdom';
import { siteForUrl } from '../../extension/sites/index.js';
import { originalUrl } from '../../extension/tools/extract-saved-page.mjs';
import { FIXTURES, fixtureNames } from './helpers.js';

const get = (object, path) => path.split('.').reduce((value, key) => value?.[key], object) ?? null;
// The indented copy adds source whitespace only: compare texts with runs of whitespace as one space.
const loose = (value) => (typeof value === 'string' ? value.replace(/\s+/g, ' ') : value);

function extractAll(path) {
  const html = readFileSync(path, 'utf8');
  const url = originalUrl(html);
  const { document } = new JSDOM(html, { url, virtualConsole: new VirtualConsole() }).window;
  const site = siteForUrl(url);
  return { site: site.id, items: site.listComments(document).map((node) => site.extract(node, url)) };
}

const table = {}; // site -> field -> [correct, total]

describe('fixtures against their expected values', () => {
  for (const name of fixtureNames()) {
    const expected = JSON.parse(readFileSync(new URL(name.replace(/\.html$/, '.expected.json'), FIXTURES), 'utf8'));
    for (const copy of ['saved', 'indented']) {
      it(`${name} (${copy} copy)`, () => {
        const path = new URL(copy === 'saved' ? name : `indented/${name}`, FIXTURES);
        const { site, items } = extractAll(path);
        assert.equal(items.length, expected.comments.length, 'number of comments found');
        const misses = [];
        expected.comments.forEach((want, index) => {
          for (const [field, value] of Object.entries(want)) {
            const got = get(items[index], field);
            const ok = copy === 'saved' ? JSON.stringify(got) === JSON.stringify(value) : JSON.stringify(loose(got)) === JSON.stringify(loose(value));
            if (/^(author\.name|title|posted_at_text|post\.author)$/.test(field) && typeof got === 'string') {
              assert.doesNotMatch(got, /\n/, `${field} of comment ${index} is one line`);
            }
            if (expected.real) {
              const cell = ((table[site] ??= {})[field] ??= [0, 0]);
              cell[0] += ok ? 1 : 0;
              cell[1] += 1;
            }
            if (!ok) misses.push(`comment ${index} ${field}: got ${JSON.stringify(got)}, want ${JSON.stringify(value)}`);
          }
        });
        assert.deepEqual(misses, []);
      });
    }
  }
});

after(() => {
  const lines = ['| site | field | correct / comments (saved + indented copies) |', '| --- | --- | --- |'];
  for (const [site, fields] of Object.entries(table)) {
    for (const [field, [correct, total]] of Object.entries(fields)) lines.push(`| ${site} | ${field} | ${correct} / ${total} |`);
  }
  console.log(`Fields extracted correctly over all comments of the real saved pages:\n${lines.join('\n')}`);
});
