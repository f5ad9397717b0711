// Strings for the effective language. chrome.i18n follows the browser only, so to honour the
// language override the extension reads its own _locales/<lang>/messages.json.
import { api } from './api.js';
import { effectiveLanguage, getSettings } from './settings.js';

export async function loadStrings() {
  const { language } = await getSettings();
  const lang = effectiveLanguage(language, api.i18n.getUILanguage());
  const response = await fetch(api.runtime.getURL(`_locales/${lang}/messages.json`));
  const raw = await response.json();
  const messages = Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, value.message]));
  return { lang, messages };
}

/** "$1 captures waiting" style placeholders ($1, $2 …). */
export function format(messages, key, ...args) {
  const template = messages[key] ?? key;
  return template.replace(/\$(\d)/g, (_, index) => String(args[Number(index) - 1] ?? ''));
}

/** Fill every [data-i18n] element of an extension page. */
export function localisePage(document, messages) {
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = messages[node.dataset.i18n] ?? node.dataset.i18n;
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = messages[node.dataset.i18nPlaceholder] ?? '';
}
