// The POST /api/captures body, built from what the extractor found, the user's choice and the
// evidence. Pure: no browser API, so it is unit-tested. The server rejects unknown top-level fields.
import { OFFENCE_CATEGORIES, PURPOSES } from './vocabulary.js';

export { OFFENCE_CATEGORIES, PURPOSES }; // generated from the server's vocabulary: the dialog offers what it accepts

export const CAPTURE_FIELDS = [
  'kind', 'page_url', 'permalink', 'platform', 'author', 'text', 'rating', 'title', 'posted_at', 'posted_at_text',
  'visit_date_text', 'post', 'machine_translated', 'truncated', 'owner_response', 'comment_html', 'screenshot',
  'page_snapshot', 'context',
  'testimonial', 'offence',
];

const MAX_TEXT = 20000;

export function buildCaptureBody({ extracted, choice, screenshot = null, snapshot = null, context }) {
  const body = {
    kind: choice.kind,
    page_url: extracted.page_url,
    permalink: extracted.permalink ?? null,
    // "other" is left to the server, which infers the platform from the URL.
    platform: extracted.platform === 'other' ? null : extracted.platform ?? null,
    author: {
      name: extracted.author?.name ?? null,
      profile_url: extracted.author?.profile_url ?? null,
      badge: extracted.author?.badge ?? null,
      // A name typed by the user when the page showed none: kept apart from what was extracted.
      entered_by_user: Boolean(extracted.author?.entered_by_user),
    },
    text: (extracted.text ?? '').slice(0, MAX_TEXT),
    rating: extracted.rating ?? null,
    title: extracted.title ?? null,
    posted_at: extracted.posted_at ?? null,
    posted_at_text: extracted.posted_at_text ?? null,
    visit_date_text: extracted.visit_date_text ?? null,
    post: extracted.post ?? null,
    machine_translated: Boolean(extracted.machine_translated),
    truncated: Boolean(extracted.truncated),
    owner_response: extracted.owner_response ?? null,
    comment_html: extracted.comment_html || null,
    screenshot,
    page_snapshot: snapshot,
    context,
    testimonial: null,
    offence: null,
  };
  if (choice.kind === 'testimonial') {
    body.testimonial = {
      purposes: PURPOSES.filter((purpose) => choice.purposes?.includes(purpose)),
      photo: Boolean(choice.photo),
    };
  } else if (choice.kind === 'offence') {
    if (!OFFENCE_CATEGORIES.includes(choice.category)) throw new Error(`unknown offence category: ${choice.category}`);
    body.offence = { category: choice.category, known_since: choice.known_since || null, notes: choice.notes || null };
  } else {
    throw new Error(`unknown kind: ${choice.kind}`);
  }
  return body;
}

/** Local calendar day as YYYY-MM-DD (the default "date you learned of it"). */
export function localDay(date = new Date()) {
  const pad = (number) => String(number).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The element's rectangle in device pixels, clipped to the visible viewport (the screenshot). */
export function deviceRect(rect, viewport, ratio) {
  const left = Math.max(0, rect.left);
  const top = Math.max(0, rect.top);
  const right = Math.min(viewport.width, rect.right);
  const bottom = Math.min(viewport.height, rect.bottom);
  return {
    x: Math.round(left * ratio),
    y: Math.round(top * ratio),
    width: Math.max(0, Math.round((right - left) * ratio)),
    height: Math.max(0, Math.round((bottom - top) * ratio)),
  };
}

export function dataUrlToBase64(dataUrl) {
  const comma = dataUrl.indexOf(',');
  return { media_type: dataUrl.slice(5, dataUrl.indexOf(';')), data: dataUrl.slice(comma + 1) };
}

export function bytesToBase64(bytes) {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

/**
 * The platform server IP recorded for the tab, only if that response delivered the captured page
 * (same URL but for the fragment); otherwise null, printed as "not recorded". A tab keeps the last
 * recorded response, which may belong to another site visited before.
 */
export function serverIpFor(record, pageUrl) {
  if (!record?.ip || !record.url || !pageUrl) return null;
  const withoutFragment = (url) => url.split('#')[0];
  return withoutFragment(record.url) === withoutFragment(pageUrl) ? record.ip : null;
}

/**
 * How to join successive viewport screenshots of a comment taller than the viewport into one image.
 * `scrolls`: each screenshot's vertical scroll offset, ascending; `top`/`bottom`: the comment's rows
 * on the page; all in device pixels. The first screenshot is kept whole (the author and date at the
 * top); each next one adds only the rows below what is already covered.
 */
export function stitchPlan(scrolls, viewportHeight, top, bottom) {
  const parts = [{ index: 0, sourceY: 0, height: viewportHeight, destY: 0 }];
  let covered = scrolls[0] + viewportHeight;
  scrolls.forEach((scroll, index) => {
    const end = scroll + viewportHeight;
    if (index === 0 || end <= covered) return;
    parts.push({ index, sourceY: covered - scroll, height: end - covered, destY: covered - scrolls[0] });
    covered = end;
  });
  return {
    parts,
    height: covered - scrolls[0],
    rect: { y: Math.max(0, top - scrolls[0]), height: Math.min(bottom, covered) - Math.max(top, scrolls[0]) },
  };
}
