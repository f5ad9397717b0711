// TripAdvisor review cards: the current layout (2023–), the 2020–22 HR_CC_CARD layout and the
// ≤2019 .review-container layout still found in saved pages (docs/sites.md). All country domains.
import { absoluteUrl, emptyResult, parseWrittenDate, textOf } from './util.js';

export const id = 'tripadvisor';
export const label = 'Tripadvisor';
export const hosts = [/^(www\.)?tripadvisor\.(com?\.)?[a-z]{2,3}$/];

const CARD_SELECTOR = '[data-automation="reviewCard"], [data-test-target="HR_CC_CARD"], .review-container[data-reviewid]';
const REVIEW_LINK = 'a[href*="/ShowUserReviews-"]';
const REVIEW_ID = /-r(\d+)-/;
const READ_MORE = ['read more', 'more', 'leggi di più', 'leggi tutto', 'altro', 'mehr', 'plus', 'más'];
const VISIT_LABELS = /^(date of (stay|visit|experience)|data del soggiorno|data della visita|data dell'esperienza|trip type|tipo di viaggio)\s*:/i;
const WRITTEN = /^(written|scritta il|scritto il|recensito il|reviewed)\b/i;
const NOT_REVIEW_TEXT = /^(response from|risposta d[ai]|this review is the subjective opinion|questa recensione è l'opinione)/i;

function reviewLink(card) {
  return [...card.querySelectorAll(REVIEW_LINK)].find((anchor) => REVIEW_ID.test(anchor.getAttribute('href')));
}

// HR_CC_CARD is reused by non-review widgets: only a card with a review link is a review.
function isCard(node) {
  if (!node.matches?.(CARD_SELECTOR)) return false;
  return node.matches('.review-container') || Boolean(reviewLink(node));
}

export function findComment(element) {
  for (let node = element; node; node = node.parentElement) {
    if (isCard(node)) return node;
  }
  return null;
}

export function listComments(document) {
  // A legacy container may wrap a card; keep the outermost review card only once.
  return [...document.querySelectorAll(CARD_SELECTOR)].filter(isCard).filter(
    (card) => !card.parentElement?.closest(CARD_SELECTOR),
  );
}

function isReadMore(node) {
  return READ_MORE.includes(node.textContent.trim().toLowerCase());
}

export function findExpanders(card) {
  return [...card.querySelectorAll('button, [role="button"], span.taLnk')].filter(isReadMore);
}

export function parseRating(card) {
  const title = card.querySelector('svg[data-automation="bubbleRatingImage"] title');
  if (title) {
    const number = title.textContent.match(/(\d+(?:[.,]\d+)?)/);
    return number ? clampRating(Number(number[1].replace(',', '.'))) : null;
  }
  const bubbles = card.querySelector('.ui_bubble_rating[class*="bubble_"]');
  const match = bubbles?.className.match(/bubble_(\d{2})/);
  return match ? clampRating(Number(match[1]) / 10) : null;
}

function clampRating(value) {
  const rounded = Math.round(value);
  return rounded >= 1 && rounded <= 5 ? rounded : null;
}

// Short single lines of the card, to find the visit date and the written date.
function lines(card) {
  return [...card.querySelectorAll('div, span')]
    .filter((node) => !node.querySelector('div, span'))
    .map((node) => textOf(node))
    .filter((line) => line && line.length < 120);
}

function visitDate(card, allLines) {
  const legacy = card.querySelector('.prw_reviews_stay_date_hsx, .stay_date_label');
  if (legacy) return textOf(legacy);
  const labelled = [...card.querySelectorAll('span, div')]
    .filter((node) => VISIT_LABELS.test(textOf(node)) && !node.querySelector('div'))
    .map((node) => textOf(node));
  const unique = [...new Set(labelled)].filter((line, index, all) => !all.some((other, j) => j !== index && other.includes(line) && other !== line));
  if (unique.length) return unique.join(' • ');
  return allLines.find((line) => /\b\d{4}\s+•\s+\S/.test(line)) ?? null;
}

// The review body. Current layout: no stable marker, so the longest *rendered* text block that is
// none of the other parts. Rendered, because a saved or indented page pads the rating's <div> with
// hundreds of spaces around an svg whose <title> ("5 of 5 bubbles") is not text on screen.
function reviewText(card, exclude) {
  const marked = card.querySelector('[data-test-target="review-body"], .partial_entry, q');
  if (marked) return marked;
  const candidates = [...card.querySelectorAll('span, div, q, p')]
    .filter((node) => !node.querySelector('div, p') && !node.closest('button, [role="button"], a, svg'))
    .filter((node) => !exclude.some((other) => other && (other.contains(node) || node.contains(other))))
    .map((node) => ({ node, text: textOf(node) }))
    .filter(({ text }) => text && !WRITTEN.test(text) && !VISIT_LABELS.test(text) && !NOT_REVIEW_TEXT.test(text) && !/\b\d{4}\s+•\s+/.test(text));
  const response = [...card.querySelectorAll('div, span')].find((node) => /^(response from|risposta d[ai])/i.test(textOf(node)));
  // The owner's response comes after the review: keep only blocks before it (4 = FOLLOWING).
  const own = response ? candidates.filter(({ node }) => node.compareDocumentPosition(response) & 4) : candidates;
  return own.sort((a, b) => b.text.length - a.text.length)[0]?.node ?? null;
}

// ≤2019 cards show the member's screen name without a link; TripAdvisor's profile address is
// /Profile/<screen name> on the page's own domain.
function legacyProfileUrl(name, pageUrl) {
  return name && !/\s/.test(name) ? absoluteUrl(`/Profile/${encodeURIComponent(name)}`, pageUrl) : null;
}

// The business: the page's main heading (#HEADING in every layout); a ≤2019 page also has a
// masthead <h1> with "…: Hours, Address, … Reviews: 4.5/5", which is not the business's name.
function businessName(document) {
  const heading = ['h1#HEADING', '[data-test-target="mainH1"] h1', 'h1'].map((selector) => document.querySelector(selector)).find(Boolean);
  return heading ? textOf(heading) || null : null;
}

export function extract(card, pageUrl) {
  const result = emptyResult(pageUrl, id);
  const link = reviewLink(card) || card.querySelector('.quote a[href], a.title[href]');
  const titleNode = card.querySelector('[data-test-target="review-title"]') || card.querySelector('.noQuotes') || link;
  result.title = titleNode ? textOf(titleNode) || null : null;
  if (link) result.permalink = absoluteUrl(link.getAttribute('href'), pageUrl);
  const profile = [...card.querySelectorAll('a[href^="/Profile/"], a[href*="tripadvisor"][href*="/Profile/"]')].find((anchor) => textOf(anchor) !== '');
  const legacyName = card.querySelector('.info_text > div:first-child, .memberOverlayLink .username');
  const name = profile ? textOf(profile) : legacyName ? textOf(legacyName) || null : null;
  result.author = {
    ...result.author,
    name,
    profile_url: profile ? absoluteUrl(profile.getAttribute('href'), pageUrl) : legacyProfileUrl(name, pageUrl),
  };
  result.rating = parseRating(card);
  const allLines = lines(card);
  result.visit_date_text = visitDate(card, allLines);
  const legacyDate = card.querySelector('.ratingDate');
  if (legacyDate) {
    result.posted_at_text = textOf(legacyDate) || null;
    result.posted_at = parseWrittenDate(legacyDate.getAttribute('title') || legacyDate.textContent);
  } else {
    const written = allLines.find((line) => WRITTEN.test(line));
    result.posted_at_text = written ?? null;
    result.posted_at = parseWrittenDate(written);
  }
  const textNode = reviewText(card, [titleNode, profile, legacyName]);
  result.text = textNode ? textOf(textNode, { skip: (node) => isReadMore(node) && node.matches('button, [role="button"], span.taLnk') }) : '';
  result.machine_translated = Boolean(textNode?.closest('[data-machine-translated="true"]') || textNode?.querySelector('[data-machine-translated="true"]'));
  result.post = { author: businessName(card.ownerDocument), url: businessUrl(pageUrl), text: null };
  result.comment_html = card.outerHTML;
  return result;
}

function businessUrl(pageUrl) {
  const url = absoluteUrl(pageUrl, pageUrl);
  if (!url) return null;
  const parsed = new URL(url);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href;
}
