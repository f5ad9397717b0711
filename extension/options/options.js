// Options: server URL (loopback only), pairing token (pasted, or read from the server's Connect
// page by the background), language override.
import { api } from '../lib/api.js';
import { loadStrings, localisePage } from '../lib/i18n.js';
import { getSettings, normaliseServerUrl } from '../lib/settings.js';

const { messages } = await loadStrings();
localisePage(document, messages);
const form = document.getElementById('form');
const message = document.getElementById('message');
const settings = await getSettings();
form.serverUrl.value = settings.serverUrl;
form.token.value = settings.token;
form.language.value = settings.language;

function say(text, ok) {
  message.textContent = text;
  message.className = ok ? 'ok' : 'bad';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const serverUrl = normaliseServerUrl(form.serverUrl.value.trim());
  if (!serverUrl) {
    say(messages.optionsInvalidUrl, false);
    return;
  }
  await api.storage.local.set({ serverUrl, token: form.token.value.trim(), language: form.language.value });
  await api.runtime.sendMessage({ type: 'settings-changed' });
  say(messages.optionsSaved, true);
});

document.getElementById('connect').addEventListener('click', async () => {
  const answer = await api.runtime.sendMessage({ type: 'connect', payload: { serverUrl: form.serverUrl.value.trim() } });
  if (answer.status === 'ok') {
    form.token.value = (await getSettings()).token;
    say(messages.connectOk, true);
  } else {
    say(`${messages.connectFailed} ${answer.error}`, false);
  }
});
