// Load a saved-page fixture in jsdom at its original URL (from the "saved from url" comment).
import { readFileSync, readdirSync } from 'node:fs';
import { JSDOM } from 'jsdom';
import { originalUrl } from '../../extension/tools/extract-saved-page.mjs';

export const FIXTURES = new URL('./fixtures/', import.meta.url);

export function fixtureNames() {
  return readdirSync(FIXTURES).filter((name) => name.endsWith('.html'));
}

export function loadFixture(name, { runScripts = false } = {}) {
  const html = readFileSync(new URL(name, FIXTURES), 'utf8');
  const url = originalUrl(html);
  if (!url) throw new Error(`${name}: no "saved from url" comment`);
  const dom = new JSDOM(html, { url, ...(runScripts ? { runScripts: 'dangerously' } : {}) });
  return { dom, document: dom.window.document, url, html };
}

export const PAYLOAD_FIELDS = [
  'platform', 'page_url', 'permalink', 'author', 'text', 'title', 'rating', 'posted_at', 'posted_at_text',
  'visit_date_text', 'post', 'machine_translated', 'owner_response', 'comment_html',
];
