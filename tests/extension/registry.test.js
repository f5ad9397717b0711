// The registry itself: every site module is complete, has fixtures, and agrees with the manifest.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { siteForUrl, sites } from '../../extension/sites/index.js';
import { fixtureNames, loadFixture } from './helpers.js';

const manifest = JSON.parse(readFileSync(new URL('../../extension/manifest.json', import.meta.url), 'utf8'));
const EXPORTS = ['findComment', 'listComments', 'findExpanders', 'extract'];

describe('site registry', () => {
  it('ids are unique and every module exports the extractor interface', () => {
    const ids = sites.map((site) => site.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const site of sites) {
      assert.equal(typeof site.label, 'string', `${site.id}.label`);
      for (const name of EXPORTS) assert.equal(typeof site[name], 'function', `${site.id}.${name}`);
      for (const pattern of site.hosts) {
        assert.ok(pattern instanceof RegExp, `${site.id}: host patterns are regular expressions`);
        assert.ok(pattern.source.startsWith('^') && pattern.source.endsWith('$'), `${site.id}: ${pattern} must be anchored`);
      }
    }
    assert.equal(sites.at(-1).id, 'generic', 'generic comes last: it takes every other page');
  });

  it('every site module has at least one fixture, and each fixture maps to its site', () => {
    const names = fixtureNames();
    for (const site of sites) {
      assert.ok(names.some((name) => name.startsWith(`${site.id}-`)), `no fixture for ${site.id}`);
    }
    for (const name of names) {
      const { url } = loadFixture(name);
      assert.equal(siteForUrl(url).id, name.split('-')[0], `${name} (${url})`);
    }
  });

  it('every site page the manifest grants maps to a site module, and back', () => {
    const patterns = manifest.host_permissions.filter((pattern) => !/127\.0\.0\.1|localhost/.test(pattern));
    assert.deepEqual(manifest.content_scripts[0].matches, patterns);
    for (const pattern of patterns) {
      const [, host, path] = pattern.match(/^\*:\/\/(?:\*\.)?([^/]+)(\/.*)$/);
      const url = `https://${host.startsWith('www.') ? host : `www.${host}`}${path.replace('*', 'x')}`;
      assert.notEqual(siteForUrl(url).id, 'generic', pattern);
    }
    for (const url of ['https://www.facebook.com/a', 'https://m.facebook.com/a', 'https://web.facebook.com/a',
      'https://www.tripadvisor.it/a', 'https://www.tripadvisor.co.uk/a', 'https://tripadvisor.com/a']) {
      const host = new URL(url).hostname;
      assert.ok(patterns.some((pattern) => host.endsWith(pattern.replace('*://*.', '').replace('/*', ''))), url);
    }
  });

  it('look-alike hosts are not the real sites', () => {
    for (const url of ['https://facebook.com.evil.example/x', 'https://www.notfacebook.com/', 'https://tripadvisor.it.example.org/',
      'not a url', 'https://www.facebook.co/']) {
      assert.equal(siteForUrl(url).id, 'generic', url);
    }
  });
});

describe('content scripts', () => {
  it('every module the in-page code imports is web-accessible (else the dialog never opens)', () => {
    const patterns = manifest.web_accessible_resources.flatMap((entry) => entry.resources)
      .map((pattern) => new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`));
    const seen = new Set();
    const visit = (path) => {
      if (seen.has(path)) return;
      seen.add(path);
      assert.ok(patterns.some((pattern) => pattern.test(path)), `${path} is imported by the page's code but not web-accessible`);
      const source = readFileSync(new URL(`../../extension/${path}`, import.meta.url), 'utf8');
      for (const [, target] of source.matchAll(/^import[^'"]*['"](\.[^'"]+)['"]/gm)) {
        visit(new URL(target, `https://x/${path}`).pathname.slice(1));
      }
    };
    visit('content/main.js');
    assert.ok(seen.has('lib/vocabulary.js'));
  });
});
