// Small DOM helpers shared by the site extractors. Pure: they read the DOM, never change it
// (except expandAll, which clicks the site's own "See more" buttons, as a person would).

// Elements whose content is never rendered as text (an svg's <title> is a tooltip, not text).
const NOT_TEXT = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'TITLE', 'SELECT', 'TEXTAREA', 'INPUT', 'IFRAME', 'OBJECT']);
// Without layout (the Node tool, jsdom) a tag's default display decides where lines break.
const BLOCK_TAGS = new Set([
  'ADDRESS', 'ARTICLE', 'ASIDE', 'BLOCKQUOTE', 'DD', 'DETAILS', 'DIALOG', 'DIV', 'DL', 'DT', 'FIELDSET', 'FIGCAPTION',
  'FIGURE', 'FOOTER', 'FORM', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'HGROUP', 'HR', 'LI', 'MAIN', 'NAV', 'OL',
  'P', 'PRE', 'SECTION', 'SUMMARY', 'TABLE', 'TR', 'UL', 'CAPTION',
]);
const BLOCK_DISPLAY = /^(block|flex|grid|list-item|table|table-row|table-caption|flow-root)$/;

/** How an element renders: hidden, block (line breaks around it) and whether its spaces collapse. */
function layoutOf(element, hasLayout) {
  if (hasLayout) {
    const style = element.ownerDocument.defaultView.getComputedStyle(element);
    return {
      hidden: style.display === 'none' || style.visibility === 'hidden' || style.visibility === 'collapse',
      block: BLOCK_DISPLAY.test(style.display),
      preserve: /^(pre|pre-wrap|break-spaces|pre-line)$/.test(style.whiteSpace),
    };
  }
  const inline = element.getAttribute('style') || '';
  return {
    hidden: element.hasAttribute('hidden') || /display\s*:\s*none/i.test(inline),
    block: BLOCK_TAGS.has(element.tagName) || /display\s*:\s*(block|flex|grid)/i.test(inline),
    preserve: element.tagName === 'PRE' || /white-space\s*:\s*pre/i.test(inline),
  };
}

/**
 * The text a person sees in `node`, with the browser's rendering rules (what innerText does, plus the
 * alt text of emoji images, which innerText drops): runs of spaces and source line breaks collapse
 * to one space; only <br>, block boundaries (two for <p>) and pre-formatted text break lines;
 * hidden elements, scripts and svg (whose <title> is a tooltip) give nothing. In the browser the
 * computed style decides; without layout (Node tool, jsdom) the tags' default display does.
 * `skip(element)` leaves out controls such as "See more".
 */
export function textOf(node, { skip = () => false } = {}) {
  const document = node.ownerDocument ?? node;
  const hasLayout = document.documentElement?.getBoundingClientRect().width > 0;
  let out = '';
  let breaks = 0; // line breaks owed before the next text
  let space = false; // a collapsible space owed before the next text
  const write = (text) => {
    if (!text) return;
    if (breaks && out) out += '\n'.repeat(breaks);
    else if (space && out && !/[ \n]$/.test(out)) out += ' ';
    breaks = 0;
    space = false;
    out += text;
  };
  const lineBreak = (count) => {
    if (out) breaks = Math.max(breaks, count);
    space = false;
  };
  const walk = (current, preserve) => {
    for (const child of current.childNodes) {
      if (child.nodeType === 3) {
        if (preserve) {
          write(child.nodeValue);
          continue;
        }
        const collapsed = child.nodeValue.replace(/[ \t\n\r\f]+/g, ' ');
        if (collapsed.startsWith(' ')) space = true;
        write(collapsed.trim());
        if (collapsed.length > 1 && collapsed.endsWith(' ')) space = true;
      } else if (child.nodeType === 1) {
        if (NOT_TEXT.has(child.tagName) || child.namespaceURI === 'http://www.w3.org/2000/svg' || skip(child)) continue;
        if (child.tagName === 'BR') {
          write('\u200b'); // keeps the break even at the start, removed below
          out += '\n';
          continue;
        }
        const layout = layoutOf(child, hasLayout);
        if (layout.hidden) continue;
        if (child.tagName === 'IMG') {
          write(child.getAttribute('alt') || '');
          continue;
        }
        const paragraph = child.tagName === 'P' ? 2 : 1;
        if (layout.block) lineBreak(paragraph);
        walk(child, layout.preserve);
        if (layout.block) lineBreak(paragraph);
      }
    }
  };
  walk(node, node.nodeType === 1 && layoutOf(node, hasLayout).preserve);
  return cleanText(out.replace(/\u200b/g, ''));
}

/** Collapse runs of spaces, trim every line, at most one empty line in a row. */
export function cleanText(text) {
  return text
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t\f\v]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Absolute URL on the page's own origin, or null for empty/non-http hrefs. */
export function absoluteUrl(href, base) {
  if (!href) return null;
  try {
    const url = new URL(href, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

export function emptyResult(pageUrl, platform) {
  return {
    platform,
    page_url: pageUrl,
    permalink: null,
    author: { name: null, profile_url: null, badge: null },
    text: '',
    title: null,
    rating: null,
    posted_at: null,
    posted_at_text: null,
    visit_date_text: null,
    post: null,
    machine_translated: false,
    owner_response: null,
    comment_html: '',
  };
}

const MONTHS = {
  january: 1, february: 2, march: 3, april: 4, may: 5, june: 6, july: 7, august: 8, september: 9,
  october: 10, november: 11, december: 12,
  gennaio: 1, febbraio: 2, marzo: 3, aprile: 4, maggio: 5, giugno: 6, luglio: 7, agosto: 8,
  settembre: 9, ottobre: 10, novembre: 11, dicembre: 12,
};

function pad(number) {
  return String(number).padStart(2, '0');
}

/**
 * An absolute date written out in Italian or English ("20 novembre 2026 alle ore 18:31",
 * "Friday, 20 November 2026 at 18:31", "September 12, 2019") as ISO 8601, or null.
 * Only full dates with a year are accepted: a relative or year-less text is never guessed.
 * With a time of day, the browser's own offset is used, because that is the zone the site displayed.
 */
export function parseWrittenDate(text) {
  if (!text) return null;
  const lower = text.toLowerCase();
  let day; let month; let year;
  let match = lower.match(/(\d{1,2})\s+([a-z]+)\s+(\d{4})/);
  if (match && MONTHS[match[2]]) {
    [day, month, year] = [Number(match[1]), MONTHS[match[2]], Number(match[3])];
  } else {
    match = lower.match(/([a-z]+)\s+(\d{1,2}),\s*(\d{4})/);
    if (!match || !MONTHS[match[1]]) return null;
    [day, month, year] = [Number(match[2]), MONTHS[match[1]], Number(match[3])];
  }
  if (day < 1 || day > 31) return null;
  const time = lower.slice(match.index + match[0].length).match(/(\d{1,2})[:.](\d{2})/);
  if (!time) return `${year}-${pad(month)}-${pad(day)}`;
  const local = new Date(year, month - 1, day, Number(time[1]), Number(time[2]));
  const offset = -local.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${year}-${pad(month)}-${pad(day)}T${pad(time[1])}:${time[2]}:00${zone}`;
}

/** Click every matching "See more" control, then wait until they are gone or the text settled. */
export async function expandAll(root, findButtons, { timeoutMs = 1500 } = {}) {
  const buttons = findButtons(root);
  if (buttons.length === 0) return false;
  const view = root.ownerDocument.defaultView;
  await new Promise((resolve) => {
    const timer = view.setTimeout(done, timeoutMs);
    const observer = new view.MutationObserver(() => {
      if (findButtons(root).length === 0) done();
    });
    function done() {
      view.clearTimeout(timer);
      observer.disconnect();
      resolve();
    }
    observer.observe(root, { childList: true, subtree: true, characterData: true });
    for (const button of buttons) button.click();
  });
  return true;
}
