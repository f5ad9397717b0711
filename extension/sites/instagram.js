// Instagram post comments (www.instagram.com/p/… and /reel/…). Class names are generated; this module
// relies on the comment's own permalink (…/c/<comment id>/ around a <time datetime>), the author's
// handle link (/<handle>/), dir="auto" text spans and role="button" controls (docs/sites.md).
import { absoluteUrl, emptyResult, textOf } from './util.js';

export const id = 'instagram';
export const label = 'Instagram';
export const hosts = [/^(www\.)?instagram\.com$/];

const PERMALINK = 'a[href*="/c/"]';
const HANDLE = /^\/[A-Za-z0-9._]+\/$/;
const VIEW_REPLIES = /^(view all \d+ repl|visualizza tutte le \d+ rispost|view replies|hide replies|nascondi risposte)/i;

function permalinkOf(node) {
  return [...node.querySelectorAll(PERMALINK)].filter((anchor) => anchor.querySelector('time'));
}

function handleLink(node) {
  return [...node.querySelectorAll('a[href]')].find((anchor) => HANDLE.test(anchor.getAttribute('href')) && !anchor.querySelector('img') && textOf(anchor));
}

// The words: dir="auto" spans that are no link, no control and hold no link (name and time are links).
function textSpans(node) {
  return [...node.querySelectorAll('span[dir="auto"]')].filter((span) => !span.closest('a, [role="button"]')
    && !span.querySelector('a, span[dir="auto"]') && textOf(span) && !VIEW_REPLIES.test(textOf(span)));
}

// A comment is the smallest element around its permalink that also holds the author's handle and words.
function commentAround(link) {
  let node = link.parentElement;
  while (node.parentElement && node !== node.ownerDocument.body && !(handleLink(node) && textSpans(node).length)) node = node.parentElement;
  return node;
}

export function findComment(element) {
  for (let node = element; node && node.nodeType === 1; node = node.parentElement) {
    const links = permalinkOf(node);
    if (links.length === 1) return commentAround(links[0]);
    if (links.length > 1) return null; // between comments
  }
  return null;
}

export function listComments(document) {
  return [...new Set([...document.querySelectorAll(PERMALINK)].filter((anchor) => anchor.querySelector('time')).map(commentAround))];
}

export function findExpanders(comment) {
  return [...comment.querySelectorAll('[role="button"]')].filter((node) => /^(more|altro|… more|\.\.\. more)$/i.test(textOf(node)));
}

function withoutQuery(href, base) {
  const url = absoluteUrl(href, base);
  if (!url) return null;
  const parsed = new URL(url);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}

export function extract(comment, pageUrl) {
  const result = emptyResult(pageUrl, id);
  const [link] = permalinkOf(comment);
  const time = link?.querySelector('time');
  result.permalink = link ? withoutQuery(link.getAttribute('href'), pageUrl) : null;
  result.posted_at_text = time ? textOf(time) || null : null;
  result.posted_at = time?.getAttribute('datetime') || null;
  const handle = handleLink(comment);
  result.author = { ...result.author, name: handle ? textOf(handle) : null, profile_url: handle ? withoutQuery(handle.getAttribute('href'), pageUrl) : null };
  result.text = textSpans(comment).map((span) => textOf(span)).join('\n');
  const post = result.permalink?.match(/^(https:\/\/[^/]+\/(?:p|reel)\/[^/]+\/)/);
  result.post = { author: null, url: post ? post[1] : null, text: null };
  result.comment_html = comment.outerHTML;
  return result;
}
