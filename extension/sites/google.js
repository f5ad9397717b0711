// Google Maps reviews (place page, "Reviews" panel). Class names are generated; this module relies on
// the review's data-review-id, the aria-label and role attributes, the contributor link shape
// (/maps/contrib/<id>) and the text block whose id is the review id (docs/sites.md).
import { absoluteUrl, emptyResult, textOf } from './util.js';

export const id = 'google';
export const label = 'Google Maps';
export const hosts = [/^(www\.)?google\.[a-z.]{2,6}$/, /^maps\.google\.[a-z.]{2,6}$/];

const OWNER_RESPONSE = /^(response from the owner|risposta del proprietario)/i;
const LOCAL_GUIDE = /\blocal guide\b/i;
const STARS = /^(\d)(?:[.,]0)?\s*(?:\/\s*5|stars?|stelle|stella)\b/i;

// The card is the outermost element carrying the review id with the author's name as its label;
// buttons inside carry the same id with other labels.
function isCard(node) {
  if (!node.matches?.('[data-review-id][aria-label]') || node.matches('button')) return false;
  const reviewId = node.getAttribute('data-review-id');
  for (let above = node.parentElement?.closest('[data-review-id]'); above; above = above.parentElement?.closest('[data-review-id]')) {
    if (above.getAttribute('data-review-id') === reviewId) return false;
  }
  return true;
}

export function findComment(element) {
  for (let node = element; node; node = node.parentElement) {
    if (isCard(node)) return node;
  }
  return null;
}

export function listComments(document) {
  return [...document.querySelectorAll('[data-review-id][aria-label]')].filter(isCard);
}

export function findExpanders(card) {
  return [...card.querySelectorAll('button[aria-expanded="false"][aria-controls], button[jsaction*="expandReview"]')]
    .filter((button) => button.getAttribute('aria-expanded') !== 'true');
}

/** The review's own text block: the element whose id is the review id (the "More" button controls it). */
function textBlock(card) {
  const reviewId = card.getAttribute('data-review-id');
  return [...card.querySelectorAll('[id]')].find((node) => node.id === reviewId) ?? null;
}

function ownerResponse(card) {
  const labelNode = [...card.querySelectorAll('span, div')].find((node) => !node.querySelector('span, div') && OWNER_RESPONSE.test(textOf(node)));
  if (!labelNode) return null;
  const header = labelNode.parentElement;
  const date = [...header.children].find((node) => node !== labelNode);
  const body = header.nextElementSibling;
  return { text: body ? textOf(body) || null : null, posted_at_text: date ? textOf(date) || null : null };
}

function placeUrl(pageUrl) {
  const url = new URL(pageUrl);
  url.search = '';
  url.hash = '';
  return url.href;
}

export function extract(card, pageUrl) {
  const result = emptyResult(pageUrl, id);
  const reviewId = card.getAttribute('data-review-id');
  // The avatar and the name both link the contributor; the name's button also says "Local Guide".
  const reviewer = [...card.querySelectorAll('[data-href*="/maps/contrib/"], a[href*="/maps/contrib/"]')].find((node) => textOf(node));
  const profile = absoluteUrl(reviewer?.getAttribute('data-href') || reviewer?.getAttribute('href'), pageUrl);
  const reviewerText = reviewer ? textOf(reviewer) : '';
  result.author = {
    name: card.getAttribute('aria-label') || reviewerText.split('\n')[0] || null,
    profile_url: profile ? placeUrl(profile) : null,
    badge: LOCAL_GUIDE.test(reviewerText) ? 'Local Guide' : null,
  };
  const stars = [...card.querySelectorAll('[role="img"][aria-label]')].find((node) => STARS.test(node.getAttribute('aria-label').trim()));
  if (stars) {
    result.rating = Number(stars.getAttribute('aria-label').trim().match(STARS)[1]);
    result.posted_at_text = stars.nextElementSibling ? textOf(stars.nextElementSibling) || null : null;
  }
  const block = textBlock(card);
  const expanders = findExpanders(card);
  result.text = block ? textOf(block, { skip: (node) => expanders.includes(node) }) : '';
  result.owner_response = ownerResponse(card);
  // Google shows no address for a single review: the place's URL, with the review id as fragment.
  result.permalink = `${placeUrl(pageUrl)}#review=${encodeURIComponent(reviewId)}`;
  const heading = card.ownerDocument.querySelector('h1');
  result.post = { author: heading ? textOf(heading) || null : null, url: placeUrl(pageUrl), text: null };
  result.comment_html = card.outerHTML;
  return result;
}
