// Popup: server status, captures waiting (with retry), the last five captures, the picker button.
// It asks the background for everything: only the background talks to the server.
import { api } from '../lib/api.js';
import { format, loadStrings, localisePage } from '../lib/i18n.js';

const { messages } = await loadStrings();
localisePage(document, messages);
const $ = (id) => document.getElementById(id);
const send = (type, payload) => api.runtime.sendMessage({ type, payload });

function item(text) {
  return Object.assign(document.createElement('li'), { textContent: text });
}

// The server lists {name, profile_url}; the local list of recent captures, a plain name.
function authorName(author) {
  return (typeof author === 'object' ? author?.name : author) || null;
}

function render(status) {
  const { server } = status;
  const state = [server.reachable ? messages.serverReachable : messages.serverUnreachable];
  if (server.reachable) state.push(server.paired ? messages.paired : messages.notPaired);
  $('server-state').textContent = state.join(', ');
  $('server-state').className = server.reachable && server.paired ? 'ok' : 'bad';
  $('queue').hidden = status.queue.length === 0;
  $('queue-count').textContent = format(messages, 'queueWaiting', status.queue.length);
  $('queue-items').replaceChildren(...status.queue.map((entry) => {
    const li = item(`${messages[`kind_${entry.kind}`]} — ${entry.author ?? messages.notFound}${entry.rejected ? ` (${messages.rejectedItem}: ${entry.error})` : ''}`);
    if (entry.rejected) {
      const discard = Object.assign(document.createElement('button'), { type: 'button', textContent: messages.discard });
      discard.addEventListener('click', async () => render(await send('discard', { id: entry.id })));
      li.append(' ', discard);
    }
    return li;
  }));
  const recent = server.paired && server.captures.length ? server.captures : status.recent;
  $('recent').replaceChildren(...(recent.length
    ? recent.slice(0, 5).map((entry) => item(`${messages[`kind_${entry.kind}`]} — ${authorName(entry.author) ?? messages.notFound}: ${(entry.text ?? '').slice(0, 60)}`))
    : [item(messages.noRecent)]));
  $('dashboard').href = `${server.url}/`;
  // Until the business profile is complete every document prints "[… da completare]".
  $('profile').hidden = !server.profileMissing;
  $('profile-link').href = `${server.url}/settings?welcome=1`;
}

$('capture').addEventListener('click', async () => {
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  const answer = await send('start-picker', { tabId: tab.id });
  if (answer?.status === 'error') $('server-state').textContent = messages.pickerUnavailable;
  else window.close();
});
$('retry').addEventListener('click', async () => render(await send('retry')));
for (const link of [$('dashboard'), $('profile-link')]) {
  link.addEventListener('click', (event) => {
    event.preventDefault();
    api.tabs.create({ url: event.currentTarget.href });
  });
}
$('options').addEventListener('click', (event) => {
  event.preventDefault();
  api.runtime.openOptionsPage();
});

// Buttons work from here on (tests wait for this mark before clicking).
document.documentElement.dataset.ready = 'true';
render(await send('status'));
