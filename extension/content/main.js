// Content script entry, imported on demand by the background (scripting.executeScript + import()).
// It only touches the DOM: extraction, picker and dialog. Evidence and sending are the background's.
import { api } from '../lib/api.js';
import { deviceRect } from '../lib/payload.js';
import { expandComment, siteForUrl } from '../sites/index.js';
import { createUi, setBusy, showDialog, showResult } from './dialog.js';
import { createOutline, pickElement } from './picker.js';

let current = null; // the open picker/dialog of this page, so a second start replaces it

function send(type, payload) {
  return api.runtime.sendMessage({ type, payload });
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

/** Returns at once: the background's executeScript must not wait for the user's pick. */
export function start(mode, targetElementId = null) {
  run(mode, targetElementId).catch((error) => console.error('Testimone:', error));
}

/**
 * What the right-click meant: the element under it (recorded on the supported sites; Firefox names
 * it on every site); elsewhere in Chromium, the element holding the selected text; else nothing.
 */
function contextTarget(targetElementId) {
  if (globalThis.__testimoneContextTarget) return globalThis.__testimoneContextTarget;
  if (targetElementId !== null && api.menus?.getTargetElement) return api.menus.getTargetElement(targetElementId);
  const selection = getSelection();
  if (selection && !selection.isCollapsed) {
    const node = selection.getRangeAt(0).commonAncestorContainer;
    return node.nodeType === 1 ? node : node.parentElement;
  }
  return null;
}

async function run(mode, targetElementId) {
  current?.remove();
  const { messages } = await send('strings');
  const ui = createUi(messages);
  current = ui;
  const site = siteForUrl(location.href);
  const target = mode === 'context' ? contextTarget(targetElementId) : null;
  let comment = target ? site.findComment(target) : null;
  if (!comment) comment = await pickElement(document, site.findComment, ui.hint);
  if (!comment) {
    ui.remove();
    return;
  }
  await expandComment(site, comment);
  const data = site.extract(comment, location.href);
  // Still truncated: say so with the words of the page's own button ("See more", "Read more", "Altro").
  const truncatedLabel = site.findExpanders(comment)[0]?.textContent.trim() || null;
  data.truncated = Boolean(truncatedLabel);
  const earlier = (await send('earlier-captures', { permalink: data.permalink, text: data.text }))?.items ?? [];
  showDialog(ui, data, { truncatedLabel, earlier }, {
    onChoose: (choice, enteredAuthor) => {
      const extracted = enteredAuthor ? { ...data, author: { ...data.author, name: enteredAuthor, entered_by_user: true } } : data;
      submit(ui, comment, extracted, choice);
    },
    onOpenCase: (id) => send('open-case', { id }),
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Chromium refuses more than two captureVisibleTab calls a second.
const SCREENSHOT_INTERVAL_MS = 600;
const MAX_SCREENSHOTS = 12;

/** The element that scrolls the comment: an inner panel (Google Maps) or the page itself. */
function scrollerOf(element) {
  for (let node = element.parentElement; node; node = node.parentElement) {
    const { overflowY } = getComputedStyle(node);
    if (/(auto|scroll)/.test(overflowY) && node.scrollHeight > node.clientHeight) return node;
  }
  return document.scrollingElement || document.documentElement;
}

/**
 * Screenshots of the comment with its author and date in the picture. A comment that fits is centred;
 * a taller one starts a quarter down the viewport (below fixed headers) and is followed viewport by
 * viewport; the background joins the pictures. Offsets are the comment's top in device pixels.
 */
async function screenshotComment(comment, outline) {
  const ratio = devicePixelRatio;
  const height = innerHeight;
  const tall = comment.getBoundingClientRect().height > height * 0.75;
  const scroller = scrollerOf(comment);
  if (tall) scroller.scrollBy(0, comment.getBoundingClientRect().top - height / 4);
  else comment.scrollIntoView({ block: 'center', inline: 'nearest' });
  const shots = [];
  let first = null;
  for (let last = 0; shots.length < MAX_SCREENSHOTS;) {
    outline.show(comment);
    await nextFrame();
    await nextFrame();
    await sleep(last + SCREENSHOT_INTERVAL_MS - performance.now());
    const rect = comment.getBoundingClientRect();
    first ??= rect;
    const answer = await send('screenshot');
    last = performance.now();
    if (answer?.status !== 'ok') throw new Error(answer?.error || 'screenshot failed');
    shots.push({ data: answer.data, scroll: Math.round(-rect.top * ratio) });
    if (!tall || rect.bottom <= height) break;
    scroller.scrollBy(0, Math.floor(height * 0.75));
    await nextFrame();
    if (Math.abs(comment.getBoundingClientRect().top - rect.top) < 1) break; // nothing left to scroll
  }
  return {
    shots,
    rect: deviceRect(first, { width: innerWidth, height }, ratio),
    comment_height: Math.round(first.height * ratio),
    viewport_height: Math.round(height * ratio),
  };
}

async function submit(ui, comment, extracted, choice) {
  // The screenshot shows the comment outlined, without the dialog over it; then the dialog comes
  // back with the progress of the saving.
  setBusy(ui, 'screenshot');
  const outline = createOutline(document);
  let answer;
  try {
    const pictures = await screenshotComment(comment, outline);
    outline.remove();
    setBusy(ui, 'saving');
    answer = await send('capture', { extracted, choice, pictures });
  } catch (error) {
    answer = { status: 'error', error: error.message };
  } finally {
    outline.remove();
    setBusy(ui, false);
  }
  showResult(ui, answer ?? { status: 'error' }, {
    onDownload: () => download(ui, answer.id),
    onOpen: () => send('open-case', { id: answer.id }),
  });
}

// The PDF needs the token, so the background fetches it; the page only saves the bytes.
async function download(ui, id) {
  const answer = await send('document', { id });
  if (answer.status !== 'ok') {
    showResult(ui, { status: 'error', error: answer.error }, {});
    return;
  }
  const bytes = Uint8Array.from(atob(answer.data), (char) => char.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: answer.filename });
  ui.root.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
