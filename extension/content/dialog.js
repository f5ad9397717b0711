// The in-page dialog, inside a shadow root so the site's CSS cannot restyle it. Captured values are
// only ever set as text (never as HTML). The shadow root is open so tests can reach it; it holds
// nothing the page does not already show.
import { OFFENCE_CATEGORIES, PURPOSES, localDay } from '../lib/payload.js';

const STYLE = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.hint { position: fixed; top: 12px; left: 50%; transform: translateX(-50%); z-index: 2147483647;
  background: #1c3d6e; color: #fff; padding: 8px 14px; border-radius: 6px; font-size: 14px;
  box-shadow: 0 2px 10px rgba(0,0,0,.3); }
.panel { position: fixed; top: 12px; right: 12px; width: 380px; max-height: calc(100vh - 24px); overflow: auto;
  z-index: 2147483647; background: #fff; color: #1f1f1f; border-radius: 10px; font-size: 13px; line-height: 1.4;
  box-shadow: 0 6px 24px rgba(0,0,0,.35); padding: 14px; }
h2 { font-size: 16px; margin: 0 0 8px; display: flex; justify-content: space-between; align-items: center; }
h3 { font-size: 14px; margin: 0 0 6px; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 8px; margin: 0 0 8px; }
dt { color: #555; } dd { margin: 0; overflow-wrap: anywhere; }
.missing { color: #a15c00; font-style: italic; }
.text { white-space: pre-wrap; background: #f4f4f4; border-radius: 6px; padding: 6px 8px; max-height: 140px;
  overflow: auto; margin: 0 0 6px; }
.warn { color: #a15c00; margin: 4px 0; }
fieldset { border: 1px solid #ddd; border-radius: 8px; margin: 8px 0; padding: 8px 10px; }
legend { font-weight: 600; padding: 0 4px; }
label { display: block; margin: 2px 0; }
select, input[type=date], textarea { width: 100%; font-size: 13px; margin: 2px 0 6px; padding: 4px; }
textarea { min-height: 48px; resize: vertical; }
.advice { background: #fff8e1; border-left: 4px solid #f2b600; padding: 6px 8px; margin: 0 0 8px; }
.advice p { margin: 0; }
button { font-size: 13px; border-radius: 6px; border: 1px solid #1c3d6e; padding: 6px 10px; cursor: pointer;
  background: #fff; color: #1c3d6e; }
button.primary { background: #1c3d6e; color: #fff; width: 100%; margin-top: 4px; }
button.close { border: none; font-size: 18px; padding: 0 4px; }
.result { margin-top: 8px; padding: 8px; border-radius: 6px; }
.result[data-state="saved"] { background: #e6f4ea; } .result[data-state="queued"] { background: #fff8e1; }
.result[data-state="error"], .result[data-state="rejected"] { background: #fce8e6; }
.actions { display: flex; gap: 6px; margin-top: 6px; flex-wrap: wrap; }
.earlier { background: #e8f0fe; border-radius: 6px; padding: 6px 8px; margin: 0 0 8px; }
.progress { font-weight: 600; margin: 0 0 8px; }
fieldset:disabled { opacity: .5; }
input[type=text] { width: 100%; font-size: 13px; margin: 2px 0 6px; padding: 4px; }
`;

/** Tiny element builder: h('p', {class: 'x'}, 'text', child). Strings become text nodes. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

export function createUi(messages) {
  const host = h('div', { 'data-testimone-ui': 'dialog' });
  const root = host.attachShadow({ mode: 'open' });
  const hint = h('div', { class: 'hint', hidden: true }, messages.pickerHint);
  root.append(h('style', {}, STYLE), hint);
  document.documentElement.append(host);
  const ui = { host, root, hint, messages };
  // Esc closes the dialog (the picker handles its own Esc while it runs).
  const onKey = (event) => {
    if (event.key === 'Escape' && ui.panel && !ui.busy) ui.remove();
  };
  ui.remove = () => {
    document.removeEventListener('keydown', onKey, true);
    host.remove();
  };
  document.addEventListener('keydown', onKey, true);
  return ui;
}

function field(messages, label, value) {
  const shown = value === null || value === undefined || value === ''
    ? h('dd', { class: 'missing' }, messages.notFound)
    : h('dd', {}, String(value));
  return [h('dt', {}, label), shown];
}

/** "Already captured on …" with a link to each earlier case, and the deliberate way to capture again. */
function earlierBlock(m, earlier, onOpenCase, sections) {
  if (!earlier.length) return null;
  const again = h('button', { type: 'button', 'data-action': 'capture-again' }, m.captureAgain);
  const block = h('div', { class: 'earlier', 'data-field': 'earlier' },
    ...earlier.map((item) => h('p', {}, format(m.alreadyCaptured, new Date(item.captured_at).toLocaleString()), ' ',
      h('button', { type: 'button', 'data-action': 'open-earlier', onclick: () => onOpenCase(item.id) }, m.openEarlier))),
    h('div', { class: 'actions' }, again));
  for (const section of sections) section.hidden = true;
  again.addEventListener('click', () => {
    for (const section of sections) section.hidden = false;
    again.remove();
  });
  return block;
}

const format = (template, ...args) => template.replace(/\$(\d)/g, (_, index) => String(args[Number(index) - 1] ?? ''));

/**
 * Show what was extracted and the two choices. `onChoose(choice, enteredAuthor)` receives
 * {kind:'testimonial', purposes, photo} or {kind:'offence', category, known_since, notes}, and the
 * author's name the user typed when the page showed none (else null).
 */
export function showDialog(ui, data, { truncatedLabel = null, earlier = [] }, { onChoose, onOpenCase }) {
  const m = ui.messages;
  const when = [data.posted_at_text, data.posted_at].filter(Boolean).join(' — ');
  const today = localDay();
  const purposeBoxes = PURPOSES.map((purpose) => h('label', {},
    h('input', { type: 'checkbox', name: 'purpose', value: purpose, checked: purpose === 'website' }), ` ${m[`purpose_${purpose}`]}`));
  const photo = h('input', { type: 'checkbox', name: 'photo' });
  const category = h('select', { name: 'category' },
    ...OFFENCE_CATEGORIES.map((value) => h('option', { value }, m[`category_${value}`])));
  const knownSince = h('input', { type: 'date', name: 'known_since', value: today, max: today });
  const notes = h('textarea', { name: 'notes', maxlength: '5000', placeholder: m.notesPlaceholder });
  const typedAuthor = data.author?.name ? null : h('input', { type: 'text', name: 'entered_author', maxlength: '300' });
  const result = h('div', { class: 'result', hidden: true, 'data-state': '' });
  const progress = h('p', { class: 'progress', hidden: true, role: 'status', 'data-field': 'progress' });
  const error = h('p', { class: 'warn', hidden: true });

  const choose = (choice, chosen) => {
    error.hidden = true;
    // Only the chosen path stays: the other cannot be sent by mistake while this one saves.
    for (const fieldset of ui.fieldsets) fieldset.disabled = fieldset !== chosen;
    onChoose(choice, typedAuthor?.value.trim() || null);
  };
  const testimonialButton = h('button', {
    class: 'primary', type: 'button', 'data-action': 'testimonial',
    onclick: () => {
      const purposes = purposeBoxes.map((label) => label.firstChild).filter((box) => box.checked).map((box) => box.value);
      if (purposes.length === 0) {
        error.textContent = m.choosePurpose;
        error.hidden = false;
        return;
      }
      choose({ kind: 'testimonial', purposes, photo: photo.checked }, testimonialSet);
    },
  }, m.chooseTestimonial);
  const offenceButton = h('button', {
    class: 'primary', type: 'button', 'data-action': 'offence',
    onclick: () => {
      if (!knownSince.value || knownSince.value > localDay()) {
        error.textContent = m.knownSinceInvalid;
        error.hidden = false;
        return;
      }
      choose({ kind: 'offence', category: category.value, known_since: knownSince.value, notes: notes.value.trim() }, offenceSet);
    },
  }, m.chooseOffence);

  const testimonialSet = h('fieldset', {}, h('legend', {}, m.testimonialLegend), ...purposeBoxes,
    h('label', {}, photo, ` ${m.photoAlso}`), testimonialButton);
  const offenceSet = h('fieldset', {}, h('legend', {}, m.offenceLegend),
    h('div', { class: 'advice', 'data-field': 'advice' }, h('p', {}, m.adviceLine1), h('p', {}, m.adviceLine2)),
    h('label', {}, m.fieldCategory, category), h('label', {}, m.fieldKnownSince, knownSince),
    h('label', {}, m.fieldNotes, notes), offenceButton);
  const panel = h('section', { class: 'panel', role: 'dialog', 'aria-label': m.dialogTitle },
    h('h2', {}, m.dialogTitle, h('button', { class: 'close', type: 'button', 'aria-label': m.close, onclick: () => ui.remove() }, '×')),
    // Progress and the result come first: the user sees them without scrolling the dialog.
    progress, result,
    earlierBlock(m, earlier, onOpenCase, [testimonialSet, offenceSet]),
    h('dl', {},
      ...field(m, m.fieldAuthor, data.author?.name),
      ...field(m, m.fieldTime, when),
      ...field(m, m.fieldLink, data.permalink),
      ...(data.rating ? field(m, m.fieldRating, `${data.rating}/5`) : []),
      ...(data.title ? field(m, m.fieldTitle, data.title) : [])),
    typedAuthor ? h('label', {}, m.authorEntered, typedAuthor) : null,
    h('div', { class: 'text', 'data-field': 'text' }, data.text || m.notFound),
    truncatedLabel ? h('p', { class: 'warn', 'data-field': 'truncated' }, format(m.stillTruncated, truncatedLabel)) : null,
    data.machine_translated ? h('p', { class: 'warn' }, m.machineTranslated) : null,
    testimonialSet, offenceSet, error);
  ui.root.append(panel);
  ui.panel = panel;
  ui.result = result;
  ui.progress = progress;
  ui.buttons = [testimonialButton, offenceButton];
  ui.fieldsets = [testimonialSet, offenceSet];
}

/**
 * 'screenshot': the dialog steps aside (it must not be in the picture); 'saving': it is back, saying
 * so, nothing clickable; false: done.
 */
export function setBusy(ui, state) {
  ui.busy = Boolean(state);
  for (const button of ui.buttons) button.disabled = Boolean(state);
  ui.host.style.visibility = state === 'screenshot' ? 'hidden' : '';
  ui.progress.hidden = !state;
  ui.progress.textContent = state === 'screenshot' ? ui.messages.savingScreenshot : ui.messages.savingProgress;
}

/** After sending: "Salvato" with PDF/dashboard buttons, or "waiting", or the server's refusal. */
export function showResult(ui, answer, { onDownload, onOpen }) {
  const m = ui.messages;
  const { result } = ui;
  result.replaceChildren();
  result.hidden = false;
  const state = ['saved', 'queued', 'rejected'].includes(answer.status) ? answer.status : 'error';
  result.setAttribute('data-state', state);
  ui.panel.scrollTop = 0;
  if (state === 'error' || state === 'rejected') {
    for (const fieldset of ui.fieldsets) fieldset.disabled = false; // let the user try again
  }
  if (state === 'saved') {
    for (const button of ui.buttons) button.hidden = true;
    result.append(h('strong', {}, m.saved), ` ${answer.id ?? ''}`,
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', 'data-action': 'download',
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true;
            button.textContent = m.downloadingPdf;
            try {
              await onDownload();
            } finally {
              button.disabled = false;
              button.textContent = m.downloadPdf;
            }
          },
        }, m.downloadPdf),
        h('button', { type: 'button', 'data-action': 'open', onclick: onOpen }, m.openDashboard),
        h('button', { type: 'button', onclick: () => ui.remove() }, m.close)));
  } else if (state === 'queued') {
    for (const button of ui.buttons) button.hidden = true;
    result.append(h('strong', {}, m.queuedTitle), ' ', answer.reason === 'unpaired' ? m.queuedUnpaired : m.queuedOffline,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => ui.remove() }, m.close)));
  } else {
    result.append(h('strong', {}, m.notSaved), ' ', answer.error ?? '');
  }
}
