// Background (service worker in Chromium, event page in Firefox). It keeps no global state: it can
// be stopped at any time, so everything lives in storage.local (settings, queue, recent captures)
// and storage.session (the server IP of each tab's page).
import { api } from './lib/api.js';
import { format, loadStrings } from './lib/i18n.js';
import { buildCaptureBody, bytesToBase64, dataUrlToBase64, serverIpFor, stitchPlan } from './lib/payload.js';
import { deliverOne, enqueue, flushQueue, listQueue, listRecent } from './lib/queue.js';
import { countSoonDeadlines, fetchDocument, findEarlierCaptures, pair, probe, serverStatus } from './lib/server.js';
import { getSettings, normaliseServerUrl } from './lib/settings.js';

const MENU_ID = 'testimone-capture';
const RETRY_ALARM = 'testimone-retry';
const SITE_PAGES = api.runtime.getManifest().content_scripts[0].matches;

// --- listeners: registered synchronously at the top level so a restarted worker receives events.

api.runtime.onInstalled.addListener(setUp);
api.runtime.onStartup.addListener(setUp);
api.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === MENU_ID && tab?.id >= 0) startCapture(tab.id, info.frameId ?? 0, 'context', info.targetElementId ?? null);
});
api.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RETRY_ALARM) retryAndRefresh();
});
api.webRequest.onResponseStarted.addListener(recordServerIp, { urls: SITE_PAGES, types: ['main_frame'] });
api.tabs.onRemoved.addListener((tabId) => api.storage.session.remove(`ip:${tabId}`));
api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Not async: answer through sendResponse and keep the channel open (works in Chrome and Firefox).
  handleMessage(message, sender).then(sendResponse, (error) => sendResponse({ status: 'error', error: error.message }));
  return true;
});

async function setUp() {
  const { messages } = await loadStrings();
  await api.contextMenus.removeAll();
  api.contextMenus.create({ id: MENU_ID, title: messages.contextMenuTitle, contexts: ['all'] });
  await api.alarms.create(RETRY_ALARM, { periodInMinutes: 5 });
  await retryAndRefresh();
}

async function handleMessage(message, sender) {
  switch (message?.type) {
    case 'strings':
      return loadStrings();
    case 'capture':
      return capture(message.payload, sender);
    case 'earlier-captures':
      return earlierCaptures(message.payload);
    case 'screenshot':
      return { status: 'ok', data: (await takeScreenshot(sender.tab.windowId)).data };
    case 'start-picker':
      return startCapture(message.payload.tabId, 0, 'picker');
    case 'status':
      return status();
    case 'retry':
      await flushQueue(await getSettings(), { includeRejected: true });
      await refreshBadge();
      return status();
    case 'discard':
      return discard(message.payload.id);
    case 'document':
      return documentFor(message.payload.id);
    case 'open-case':
      return openCase(message.payload.id);
    case 'open-pairing':
      return openPairing(message.payload.serverUrl);
    case 'pair':
      return pairWith(message.payload);
    case 'settings-changed':
      await setUp();
      return status();
    default:
      console.warn('Testimone: unknown message type', message?.type);
      return { status: 'error', error: `unknown message type: ${message?.type}` };
  }
}

// --- capture

/** Inject the content script on demand (activeTab + scripting) and start the picker or the dialog. */
async function startCapture(tabId, frameId, mode, targetElementId = null) {
  await api.scripting.executeScript({
    target: { tabId, frameIds: [frameId] },
    func: (moduleUrl, startMode, elementId) => import(moduleUrl).then((module) => module.start(startMode, elementId)).then(() => true),
    args: [api.runtime.getURL('content/main.js'), mode, targetElementId],
  });
  return { status: 'started' };
}

function recordServerIp(details) {
  if (details.tabId < 0 || !details.ip) return;
  api.storage.session.set({ [`ip:${details.tabId}`]: { ip: details.ip, url: details.url } });
}

async function takeScreenshot(windowId) {
  return dataUrlToBase64(await api.tabs.captureVisibleTab(windowId, { format: 'png' }));
}

// MHTML where the browser can make it (Chromium); otherwise the serialised DOM (Firefox).
async function takeSnapshot(tabId) {
  if (api.pageCapture?.saveAsMHTML) {
    // Reading the first MHTML blob of a worker's life sometimes fails with NotFoundError in
    // Chromium 156 (its temporary file is gone); a second capture reads fine.
    for (let attempt = 1; ; attempt += 1) {
      try {
        const blob = await api.pageCapture.saveAsMHTML({ tabId });
        return { media_type: 'multipart/related', data: bytesToBase64(new Uint8Array(await blob.arrayBuffer())) };
      } catch (error) {
        if (error.name !== 'NotFoundError' || attempt === 3) throw error;
      }
    }
  }
  const [{ result }] = await api.scripting.executeScript({
    target: { tabId },
    func: () => {
      const copy = document.documentElement.cloneNode(true);
      for (const node of copy.querySelectorAll('[data-testimone-ui]')) node.remove();
      const doctype = document.doctype ? `<!DOCTYPE ${document.doctype.name}>\n` : '';
      return `${doctype}<!-- saved by Testimone from ${location.href} -->\n${copy.outerHTML}`;
    },
  });
  return { media_type: 'text/html', data: bytesToBase64(new TextEncoder().encode(result)) };
}

/** One PNG from the viewport screenshots of a tall comment (see stitchPlan), and the comment's place in it. */
async function joinScreenshots({ shots, rect, comment_height: commentHeight, viewport_height: viewportHeight }) {
  if (shots.length === 1) return { media_type: 'image/png', data: shots[0].data, rect };
  const plan = stitchPlan(shots.map((shot) => shot.scroll), viewportHeight, 0, commentHeight);
  const images = await Promise.all(shots.map((shot) => createImageBitmap(
    new Blob([Uint8Array.from(atob(shot.data), (char) => char.charCodeAt(0))], { type: 'image/png' }))));
  const canvas = new OffscreenCanvas(images[0].width, plan.height);
  const context = canvas.getContext('2d');
  for (const part of plan.parts) {
    const image = images[part.index];
    context.drawImage(image, 0, part.sourceY, image.width, part.height, 0, part.destY, image.width, part.height);
  }
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return {
    media_type: 'image/png',
    data: bytesToBase64(new Uint8Array(await blob.arrayBuffer())),
    rect: { x: rect.x, width: rect.width, y: plan.rect.y, height: plan.rect.height },
  };
}

async function capture({ extracted, choice, pictures }, sender) {
  const tab = sender.tab;
  const timings = {};
  const timed = async (name, task) => {
    const start = performance.now();
    try {
      return await task();
    } finally {
      timings[name] = Math.round(performance.now() - start);
    }
  };
  const [settings, strings] = await Promise.all([getSettings(), loadStrings()]);
  const screenshotAt = new Date().toISOString(); // the pictures were taken just before this message
  const screenshot = await timed('screenshot', () => joinScreenshots(pictures));
  const snapshot = await timed('snapshot', () => takeSnapshot(tab.id));
  const ipRecord = (await api.storage.session.get(`ip:${tab.id}`))[`ip:${tab.id}`];
  const body = buildCaptureBody({
    extracted,
    choice,
    screenshot,
    snapshot,
    context: {
      captured_at_client: new Date().toISOString(),
      screenshot_at_client: screenshotAt,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      user_agent: navigator.userAgent,
      extension_version: api.runtime.getManifest().version,
      server_ip: serverIpFor(ipRecord, tab.url),
      language: strings.lang,
    },
  });
  const item = await enqueue(body);
  const result = await timed('upload', () => deliverOne(item.id, settings));
  await api.storage.session.set({ lastTimings: timings });
  refreshBadge();
  return { ...result, timings };
}

/** "Already captured on …": nothing (not an error) when the server is down or not paired. */
async function earlierCaptures(payload) {
  try {
    return { status: 'ok', items: await findEarlierCaptures(await getSettings(), payload) };
  } catch {
    return { status: 'ok', items: [] };
  }
}

// --- popup, options, dialog buttons

async function status() {
  const settings = await getSettings();
  const [server, queue, recent] = await Promise.all([serverStatus(settings), listQueue(), listRecent()]);
  return {
    server,
    hasToken: Boolean(settings.token),
    queue: queue.map(({ id, queued_at: queuedAt, attempts, error, rejected, body }) => ({
      id, queued_at: queuedAt, attempts, error, rejected, kind: body.kind, author: body.author?.name ?? null,
    })),
    recent,
  };
}

async function discard(id) {
  const queue = await listQueue();
  await api.storage.local.set({ queue: queue.filter((item) => item.id !== id || !item.rejected) });
  return status();
}

/** The case's PDF, fetched with the token and handed to the page as base64 to download there. */
async function documentFor(id) {
  const settings = await getSettings();
  const bytes = await fetchDocument(settings, `/api/captures/${encodeURIComponent(id)}/document.pdf`);
  return { status: 'ok', filename: `testimone-${id}.pdf`, data: bytesToBase64(bytes) };
}

async function openCase(id) {
  const { serverUrl } = await getSettings();
  await api.tabs.create({ url: `${serverUrl}/cases/${encodeURIComponent(id)}` });
  return { status: 'ok' };
}

/** Pairing starts in the dashboard, where the logged-in operator allows this extension (docs/security.md). */
async function openPairing(serverUrl) {
  const origin = normaliseServerUrl(serverUrl);
  const found = await probe(origin);
  if (found !== 'ok') return { status: found };
  const extension = api.runtime.getURL('').replace(/\/$/, '');
  await api.tabs.create({ url: `${origin}/pair?extension=${encodeURIComponent(extension)}` });
  return { status: 'opened' };
}

/** With the dashboard's one-time code or a pasted token; settings change only when the server agrees. */
async function pairWith({ serverUrl, token, code }) {
  const origin = normaliseServerUrl(serverUrl);
  const result = await pair(origin, { token, code });
  if (result.status === 'paired') {
    await api.storage.local.set({ serverUrl: origin, token: result.token });
    await setUp();
  }
  return { ...result, token: undefined };
}

async function retryAndRefresh() {
  const settings = await getSettings();
  if ((await listQueue()).length) await flushQueue(settings);
  await refreshBadge();
}

/** Badge: open deadlines in the next 14 days; the title also says how many captures are waiting. */
async function refreshBadge() {
  const settings = await getSettings();
  const [{ messages }, queue] = await Promise.all([loadStrings(), listQueue()]);
  let deadlines = null;
  try {
    deadlines = settings.token ? await countSoonDeadlines(settings) : null;
  } catch {
    deadlines = null; // server down: keep the title informative, the count unknown
  }
  await api.action.setBadgeBackgroundColor({ color: '#b3261e' });
  await api.action.setBadgeText({ text: deadlines ? String(deadlines) : '' });
  const parts = [messages.extName];
  if (deadlines) parts.push(format(messages, 'badgeDeadlines', deadlines));
  if (queue.length) parts.push(format(messages, 'queueWaiting', queue.length));
  await api.action.setTitle({ title: parts.join(' — ') });
}
