#!/usr/bin/env node
// Writes the indented copy of a saved-page fixture: every element on its own line, two spaces per
// level, as a pretty-printed or hand-saved page looks. Only whitespace is added, and never inside
// <pre>, <textarea>, <script>, <style> or text whose whitespace is kept (white-space: pre…), so the
// page shows the same text: an extractor must give the same fields on both copies.
//   node tests/extension/indent-fixture.mjs tests/extension/fixtures/<name>.html
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { argv } from 'node:process';
import { pathToFileURL } from 'node:url';
import { JSDOM } from 'jsdom';

const KEEP = new Set(['PRE', 'TEXTAREA', 'SCRIPT', 'STYLE', 'TITLE']);

function keepsWhitespace(element) {
  return KEEP.has(element.tagName) || /white-space\s*:\s*pre/i.test(element.getAttribute('style') || '');
}

export function indentHtml(html) {
  const dom = new JSDOM(html);
  const { document } = dom.window;
  const indent = (element, depth) => {
    if (keepsWhitespace(element)) return;
    const children = [...element.children];
    if (children.length === 0) return;
    for (const child of children) {
      element.insertBefore(document.createTextNode(`\n${'  '.repeat(depth + 1)}`), child);
      indent(child, depth + 1);
    }
    element.append(document.createTextNode(`\n${'  '.repeat(depth)}`));
  };
  indent(document.documentElement, 0);
  return dom.serialize();
}

if (import.meta.url === pathToFileURL(argv[1]).href) {
  for (const file of argv.slice(2)) {
    const target = new URL(`./fixtures/indented/${basename(file)}`, import.meta.url);
    writeFileSync(target, indentHtml(readFileSync(file, 'utf8')));
  }
}
