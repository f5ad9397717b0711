// Options: server address (loopback only), pairing, language. Pairing is normally "Connect": the
// dashboard opens, the operator allows this extension, and the dashboard sends back a one-time code
// in this page's address (#pairing-code=…&server=…), traded here for the token. A pasted token is
// checked against the server before it is kept.
import { api } from '../lib/api.js';
import { loadStrings, localisePage } from '../lib/i18n.js';
import { getSettings, normaliseServerUrl } from '../lib/settings.js';
import { describeOutcome } from './outcome.js';

const { messages } = await loadStrings();
localisePage(document, messages);
const form = document.getElementById('form');
const message = document.getElementById('message');
const settings = await getSettings();
form.serverUrl.value = settings.serverUrl;
form.token.value = settings.token;
form.language.value = settings.language;

function say({ text, ok }) {
  message.textContent = text;
  message.className = ok ? 'ok' : 'bad';
}

function serverUrlOrSay() {
  const serverUrl = normaliseServerUrl(form.serverUrl.value.trim());
  if (!serverUrl) say({ text: messages.optionsInvalidUrl, ok: false });
  return serverUrl;
}

async function pairAndSay(serverUrl, credentials) {
  const result = await api.runtime.sendMessage({ type: 'pair', payload: { serverUrl, ...credentials } });
  say(describeOutcome(result, serverUrl, messages));
  if (result.status === 'paired') form.token.value = (await getSettings()).token;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const serverUrl = serverUrlOrSay();
  if (!serverUrl) return;
  await api.storage.local.set({ language: form.language.value });
  await api.runtime.sendMessage({ type: 'settings-changed' });
  const token = form.token.value.trim();
  if (token) {
    await pairAndSay(serverUrl, { token });
  } else {
    await api.storage.local.set({ serverUrl });
    say({ text: messages.optionsSaved, ok: true });
  }
});

document.getElementById('connect').addEventListener('click', async () => {
  const serverUrl = serverUrlOrSay();
  if (!serverUrl) return;
  const result = await api.runtime.sendMessage({ type: 'open-pairing', payload: { serverUrl } });
  say(describeOutcome(result, serverUrl, messages));
});

// Back from the dashboard with a one-time code: trade it for the token, and drop it from the address.
const handover = new URLSearchParams(location.hash.slice(1));
if (handover.has('pairing-code')) {
  history.replaceState(null, '', location.pathname);
  const serverUrl = normaliseServerUrl(handover.get('server'));
  form.serverUrl.value = serverUrl ?? form.serverUrl.value;
  if (serverUrl) await pairAndSay(serverUrl, { code: handover.get('pairing-code') });
}
document.documentElement.dataset.ready = 'true';
