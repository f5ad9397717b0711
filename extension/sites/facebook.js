// Facebook ("Comet" layout). Class names are generated and change weekly, so this module relies only
// on roles, aria-labels, dir="auto" text blocks, data-ad-* attributes and link shapes (docs/sites.md).
import { absoluteUrl, emptyResult, parseWrittenDate, textOf } from './util.js';

export const id = 'facebook';
export const label = 'Facebook';
export const hosts = [/^(www|m|web)\.facebook\.com$/];

// The start of a comment article's aria-label, per interface language.
export const COMMENT_LABELS = [
  'Comment by ', 'Reply by ', // en
  'Commento di ', 'Risposta di ', // it
  'Kommentar von ', 'Antwort von ', // de
  'Commentaire de ', 'Réponse de ', // fr
  'Comentario de ', 'Respuesta de ', // es
];
const SEE_MORE = ['see more', 'altro', 'mostra altro', 'visualizza altro', 'mehr anzeigen', 'voir plus', 'ver más'];
const SEE_ORIGINAL = ['see original', 'visualizza originale', 'mostra originale', 'original anzeigen', "voir l'original"];
const POST_LINK = /\/(posts|permalink|photo|photos|reel|videos|story\.php|permalink\.php)\b|[?&](story_fbid|fbid)=/;

export function isComment(element) {
  if (element?.getAttribute?.('role') !== 'article') return false;
  const labelText = element.getAttribute('aria-label') || '';
  return COMMENT_LABELS.some((prefix) => labelText.startsWith(prefix));
}

/** The innermost comment (or reply) article around `element`; else the post around it; else null. */
export function findComment(element) {
  for (let node = element; node; node = node.parentElement) {
    if (isComment(node)) return node;
  }
  return findPost(element);
}

export function listComments(document) {
  return [...document.querySelectorAll('[role="article"][aria-label]')].filter(isComment);
}

// Elements that belong to this article, not to a reply nested inside it.
function own(article, selector) {
  return [...article.querySelectorAll(selector)].filter(
    (node) => node.parentElement.closest('[role="article"]') === article || node === article,
  );
}

function isSeeMore(node) {
  return node.getAttribute('role') === 'button' && SEE_MORE.includes(node.textContent.trim().toLowerCase());
}

export function findExpanders(article) {
  return own(article, '[role="button"]').filter(isSeeMore);
}

/** The profile URL without tracking: the query goes, except profile.php's id. */
export function profileUrl(href, base) {
  const url = absoluteUrl(href, base);
  if (!url) return null;
  const parsed = new URL(url);
  const profileId = parsed.pathname.endsWith('/profile.php') ? parsed.searchParams.get('id') : null;
  parsed.search = profileId ? `?id=${profileId}` : '';
  parsed.hash = '';
  return parsed.href;
}

/** The comment's permalink: keep only comment_id/reply_comment_id (and a post's own id parameters). */
export function commentPermalink(href, base) {
  const url = absoluteUrl(href, base);
  if (!url) return null;
  const parsed = new URL(url);
  const kept = new URLSearchParams();
  for (const name of ['story_fbid', 'fbid', 'id', 'comment_id', 'reply_comment_id']) {
    if (parsed.searchParams.has(name)) kept.set(name, parsed.searchParams.get(name));
  }
  if (!kept.has('comment_id')) return null;
  parsed.search = kept.toString();
  parsed.hash = '';
  return parsed.href;
}

const POST_MARKERS = '[data-ad-rendering-role="profile_name"], [data-ad-preview="message"], [data-ad-comet-preview="message"]';

/** The post article around `element` (a post, photo, reel or page recommendation), or null. */
function findPost(element) {
  for (let node = element?.closest?.('[role="article"]'); node; node = node.parentElement?.closest('[role="article"]')) {
    if (!isComment(node) && node.querySelector(POST_MARKERS)) return node;
  }
  return null;
}

// The post a comment belongs to: the nearest ancestor that carries the post's markers.
function postInfo(comment, pageUrl) {
  let container = comment.parentElement;
  while (container && !container.querySelector(POST_MARKERS)) container = container.parentElement;
  if (!container) return null;
  const nameNode = container.querySelector('[data-ad-rendering-role="profile_name"]') || container.querySelector('h2 a, h3 a');
  const message = container.querySelector('[data-ad-preview="message"], [data-ad-comet-preview="message"]');
  const postLink = [...container.querySelectorAll('a[href]')].find((anchor) => {
    const article = anchor.closest('[role="article"]');
    return !(article && isComment(article)) && POST_LINK.test(anchor.getAttribute('href'));
  });
  const nameLink = nameNode?.matches('a') ? nameNode : nameNode?.querySelector('a[href]');
  return {
    author: textOf(nameLink || nameNode || container.ownerDocument.createElement('i')) || null,
    url: postLink ? stripQueryKeepingIds(postLink.getAttribute('href'), pageUrl) : null,
    text: message ? textOf(message, { skip: isSeeMore }) || null : null,
  };
}

function stripQueryKeepingIds(href, base) {
  const url = absoluteUrl(href, base);
  if (!url) return null;
  const parsed = new URL(url);
  const kept = new URLSearchParams();
  for (const name of ['story_fbid', 'fbid', 'id', 'v']) {
    if (parsed.searchParams.has(name)) kept.set(name, parsed.searchParams.get(name));
  }
  parsed.search = kept.toString();
  parsed.hash = '';
  return parsed.href;
}

function extractPost(container, pageUrl) {
  const result = emptyResult(pageUrl, id);
  const nameNode = container.querySelector('[data-ad-rendering-role="profile_name"]') || container.querySelector('h2 a, h3 a');
  const nameLink = nameNode?.matches('a') ? nameNode : nameNode?.querySelector('a[href]');
  const message = container.querySelector('[data-ad-preview="message"], [data-ad-comet-preview="message"]');
  result.author = {
    ...result.author,
    name: nameLink ? textOf(nameLink) || null : nameNode ? textOf(nameNode) || null : null,
    profile_url: nameLink ? profileUrl(nameLink.getAttribute('href'), pageUrl) : null,
  };
  result.text = message ? textOf(message, { skip: isSeeMore }) : '';
  const timeLink = [...container.querySelectorAll('a[href][aria-label]')].find((anchor) => POST_LINK.test(anchor.getAttribute('href')));
  if (timeLink) {
    result.permalink = stripQueryKeepingIds(timeLink.getAttribute('href'), pageUrl);
    result.posted_at_text = timeLink.getAttribute('aria-label');
    result.posted_at = parseWrittenDate(timeLink.getAttribute('aria-label'));
  }
  result.comment_html = container.outerHTML;
  return result;
}

/** Everything the comment (or post) shows, as the capture payload's fields. */
export function extract(article, pageUrl) {
  if (!isComment(article)) return extractPost(article, pageUrl);
  const result = emptyResult(pageUrl, id);
  const links = own(article, 'a[href]');
  const authorLink = links.find((anchor) => textOf(anchor) !== '');
  if (authorLink) {
    result.author = { ...result.author, name: textOf(authorLink), profile_url: profileUrl(authorLink.getAttribute('href'), pageUrl) };
  }
  const timeLink = links.find((anchor) => anchor !== authorLink && /[?&]comment_id=/.test(anchor.getAttribute('href')) && textOf(anchor) !== '');
  if (timeLink) {
    result.permalink = commentPermalink(timeLink.getAttribute('href'), pageUrl);
    result.posted_at_text = textOf(timeLink);
    const tooltip = timeLink.getAttribute('aria-label') || timeLink.getAttribute('title');
    result.posted_at = parseWrittenDate(tooltip);
  }
  const time = own(article, 'time[datetime], abbr[data-utime]')[0];
  if (!result.posted_at && time) {
    result.posted_at = time.hasAttribute('datetime')
      ? time.getAttribute('datetime')
      : new Date(Number(time.getAttribute('data-utime')) * 1000).toISOString();
    result.posted_at_text ??= textOf(time) || time.getAttribute('title');
  }
  // Text blocks: the innermost dir="auto" divs that are not part of a link (the author's name).
  const blocks = own(article, 'div[dir="auto"]').filter(
    (block) => !block.closest('a') && !block.querySelector('div[dir="auto"]'),
  );
  result.text = blocks.map((block) => textOf(block, { skip: isSeeMore })).filter(Boolean).join('\n');
  result.machine_translated = own(article, '[role="button"], a').some(
    (node) => SEE_ORIGINAL.includes(node.textContent.trim().toLowerCase()),
  );
  result.post = postInfo(article, pageUrl);
  result.comment_html = article.outerHTML;
  return result;
}
