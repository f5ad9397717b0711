import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPTURE_FIELDS, buildCaptureBody, bytesToBase64, dataUrlToBase64, deviceRect, localDay, serverIpFor, stitchPlan } from '../../extension/lib/payload.js';
import { effectiveLanguage, normaliseServerUrl } from '../../extension/lib/settings.js';
import { extractFromHtml } from '../../extension/tools/extract-saved-page.mjs';
import { loadFixture } from './helpers.js';

const { html, url } = loadFixture('tripadvisor-restaurant-it.html');
const [extracted] = extractFromHtml(html, url).items;
const context = { captured_at_client: '2026-11-23T14:00:00.000Z', timezone: 'Europe/Rome', user_agent: 'x', extension_version: '0.1.0', server_ip: null, language: 'it' };

describe('buildCaptureBody', () => {
  it('a testimonial has exactly the contract fields, the purposes in canonical order', () => {
    const body = buildCaptureBody({ extracted, choice: { kind: 'testimonial', purposes: ['social', 'website', 'bogus'], photo: 1 }, context });
    assert.deepEqual(Object.keys(body).sort(), [...CAPTURE_FIELDS].sort());
    assert.deepEqual(body.testimonial, { purposes: ['website', 'social'], photo: true });
    assert.equal(body.offence, null);
    assert.equal(body.rating, 5);
    assert.equal(body.platform, 'tripadvisor');
    assert.equal(body.comment_html, extracted.comment_html);
  });

  it('an offence carries category, date and notes; empty notes become null', () => {
    const body = buildCaptureBody({ extracted, choice: { kind: 'offence', category: 'fake_review', known_since: '2026-11-22', notes: '' }, context });
    assert.deepEqual(body.offence, { category: 'fake_review', known_since: '2026-11-22', notes: null });
    assert.equal(body.testimonial, null);
  });

  it('leaves "other" platforms to the server and cuts text at 20000 characters', () => {
    const body = buildCaptureBody({ extracted: { ...extracted, platform: 'other', text: 'x'.repeat(25000) }, choice: { kind: 'testimonial', purposes: ['website'] }, context });
    assert.equal(body.platform, null);
    assert.equal(body.text.length, 20000);
  });

  it('refuses unknown kinds and categories', () => {
    assert.throws(() => buildCaptureBody({ extracted, choice: { kind: 'praise' }, context }), /unknown kind/);
    assert.throws(() => buildCaptureBody({ extracted, choice: { kind: 'offence', category: 'rude' }, context }), /unknown offence category/);
  });
});

describe('evidence helpers', () => {
  it('deviceRect scales by the pixel ratio and clips to the viewport', () => {
    assert.deepEqual(deviceRect({ left: -10, top: 20, right: 110, bottom: 2000 }, { width: 800, height: 600 }, 2), { x: 0, y: 40, width: 220, height: 1160 });
  });
  it('dataUrlToBase64 splits a data URL', () => {
    assert.deepEqual(dataUrlToBase64('data:image/png;base64,iVBO'), { media_type: 'image/png', data: 'iVBO' });
  });
  it('bytesToBase64 handles more than one chunk', () => {
    const bytes = new Uint8Array(70000).map((_, i) => i % 251);
    assert.equal(bytesToBase64(bytes), Buffer.from(bytes).toString('base64'));
  });
  it('localDay is YYYY-MM-DD', () => assert.match(localDay(), /^\d{4}-\d{2}-\d{2}$/));
});

describe('settings and badge helpers', () => {
  for (const [value, expected] of [
    ['http://127.0.0.1:8765/', 'http://127.0.0.1:8765'], ['http://localhost:9000/x', 'http://localhost:9000'],
    ['https://127.0.0.1:8765', null], ['http://example.org:8765', null], ['http://192.168.1.2:8765', null], ['nonsense', null], ['', null],
  ]) {
    it(`normaliseServerUrl(${JSON.stringify(value)}) → ${expected}`, () => assert.equal(normaliseServerUrl(value), expected));
  }
  it('effectiveLanguage: override, else the browser language', () => {
    assert.equal(effectiveLanguage('en', 'it-IT'), 'en');
    assert.equal(effectiveLanguage('auto', 'it-IT'), 'it');
    assert.equal(effectiveLanguage('auto', 'de'), 'en');
  });
});

describe('locales', () => {
  it('Italian and English have the same keys, and every key used by the code exists', async () => {
    const { readFileSync } = await import('node:fs');
    const read = (lang) => JSON.parse(readFileSync(new URL(`../../extension/_locales/${lang}/messages.json`, import.meta.url), 'utf8'));
    const it = read('it');
    const en = read('en');
    assert.deepEqual(Object.keys(it).sort(), Object.keys(en).sort());
    const root = new URL('../../extension/', import.meta.url);
    const sources = ['background.js', 'content/dialog.js', 'popup/popup.js', 'popup/popup.html', 'options/options.html', 'options/options.js']
      .map((path) => readFileSync(new URL(path, root), 'utf8')).join('\n');
    const used = [...sources.matchAll(/(?:messages|\bm)\.([a-zA-Z]+)\b|data-i18n="([a-zA-Z]+)"|format\(messages, '([a-zA-Z]+)'/g)].map((match) => match[1] || match[2] || match[3]);
    for (const key of used) assert.ok(key in en, `missing locale key ${key}`);
  });
});

describe('serverIpFor', () => {
  const record = { ip: '157.240.0.35', url: 'https://www.facebook.com/trattoria.demo/posts/1' };

  it('uses the recorded IP only for the page that response delivered', () => {
    assert.equal(serverIpFor(record, 'https://www.facebook.com/trattoria.demo/posts/1#c'), '157.240.0.35');
    assert.equal(serverIpFor(record, 'https://blog.example.org/2026/11/trattoria'), null, 'a previous page of the tab');
    assert.equal(serverIpFor(null, 'https://blog.example.org/'), null, 'nothing recorded (no permission for the host)');
  });
});

describe('stitchPlan', () => {
  it('one viewport: kept whole, the comment where it was', () => {
    assert.deepEqual(stitchPlan([1000], 768, 1200, 1500), {
      parts: [{ index: 0, sourceY: 0, height: 768, destY: 0 }], height: 768, rect: { y: 200, height: 300 },
    });
  });

  it('a comment taller than the viewport: the next screenshots add only new rows, the rectangle spans them', () => {
    const plan = stitchPlan([1000, 1576, 2152], 768, 1192, 2600);
    assert.deepEqual(plan.parts, [
      { index: 0, sourceY: 0, height: 768, destY: 0 },
      { index: 1, sourceY: 192, height: 576, destY: 768 },
      { index: 2, sourceY: 192, height: 576, destY: 1344 },
    ]);
    assert.equal(plan.height, 1920);
    assert.deepEqual(plan.rect, { y: 192, height: 1408 });
  });
});
