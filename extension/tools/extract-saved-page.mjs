#!/usr/bin/env node
// Maintainer's tool for when a site changes its markup: run the matching site extractor over every
// comment/review of a saved page and print the extracted objects as JSON.
//   node extension/tools/extract-saved-page.mjs --url <original page URL> <saved.html>
// Without --url, the browser's "saved from url=(NNNN)..." comment in the file is used.
import { readFile } from 'node:fs/promises';
import { argv, exit, stderr, stdout } from 'node:process';
import { pathToFileURL } from 'node:url';
import { JSDOM } from 'jsdom';
import { siteForUrl } from '../sites/index.js';

const SAVED_FROM = /<!--\s*saved from url=\(\d+\)(\S+?)\s*-->/;

export function originalUrl(html) {
  return html.match(SAVED_FROM)?.[1] ?? null;
}

/** The page parsed as the browser would (scripts off), the site module, and every extracted item. */
export function extractFromHtml(html, url) {
  const dom = new JSDOM(html, { url });
  const site = siteForUrl(url);
  const items = site.listComments(dom.window.document).map((node) => site.extract(node, url));
  return { site: site.id, items };
}

function usage(message) {
  stderr.write(`${message}\nusage: extract-saved-page.mjs [--url <original page URL>] <saved.html>\n`);
  exit(2);
}

async function main(args) {
  let url = null;
  const files = [];
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === '--url') url = args[++i] ?? usage('--url needs a value');
    else files.push(args[i]);
  }
  if (files.length !== 1) usage('give exactly one saved page');
  const html = await readFile(files[0], 'utf8');
  url ??= originalUrl(html) ?? usage(`${files[0]}: no --url and no "saved from url" comment`);
  try {
    new URL(url);
  } catch {
    usage(`--url is not a URL: ${url}`);
  }
  const { items } = extractFromHtml(html, url);
  stdout.write(`${JSON.stringify(items, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(argv[1]).href) await main(argv.slice(2));
