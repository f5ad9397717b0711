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
export function start(mode) {
  run(mode).catch((error) => console.error('Testimone:', error));
}

async function run(mode) {
  current?.remove();
  const { messages } = await send('strings');
  const ui = createUi(messages);
  current = ui;
  const site = siteForUrl(location.href);
  const target = mode === 'context' ? globalThis.__testimoneContextTarget : null;
  let comment = target ? site.findComment(target) : null;
  if (!comment) comment = await pickElement(document, site.findComment, ui.hint);
  if (!comment) {
    ui.remove();
    return;
  }
  await expandComment(site, comment);
  const data = site.extract(comment, location.href);
  showDialog(ui, data, { truncated: site.findExpanders(comment).length > 0 }, (choice) => submit(ui, comment, data, choice));
}

async function submit(ui, comment, extracted, choice) {
  // The screenshot shows the comment scrolled into view and outlined, without the dialog over it.
  setBusy(ui, true);
  comment.scrollIntoView({ block: 'center', inline: 'nearest' });
  const outline = createOutline(document);
  outline.show(comment);
  await nextFrame();
  await nextFrame();
  const rect = deviceRect(comment.getBoundingClientRect(), { width: innerWidth, height: innerHeight }, devicePixelRatio);
  let answer;
  try {
    answer = await send('capture', { extracted, choice, rect });
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
