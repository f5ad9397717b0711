// The offline queue: every capture is stored in storage.local BEFORE it is sent, and removed only
// after the server answered 201. Deliveries run one at a time (a Web Lock), so the popup's retry,
// the alarm and a new capture never send the same item twice. Each item's id is its Idempotency-Key:
// if a 201 is lost on the way back, the retry gets the same case (200) instead of a second one.
import { api } from './api.js';
import { postCapture } from './server.js';

const QUEUE = 'queue';
const RECENT = 'recent';
const RECENT_MAX = 5;
// 4xx other than these mean the body itself is wrong: retrying cannot help.
const RETRYABLE = new Set([401, 403, 408, 409, 425, 429]);

export async function listQueue() {
  return (await api.storage.local.get(QUEUE))[QUEUE] ?? [];
}

async function saveQueue(items) {
  await api.storage.local.set({ [QUEUE]: items });
}

export async function enqueue(body) {
  const item = { id: crypto.randomUUID(), body, queued_at: new Date().toISOString(), attempts: 0, error: null, rejected: false };
  await saveQueue([...(await listQueue()), item]);
  return item;
}

export async function listRecent() {
  return (await api.storage.local.get(RECENT))[RECENT] ?? [];
}

async function remember(answer, body) {
  const entry = {
    id: answer.id, kind: answer.kind, captured_at: answer.captured_at, links: answer.links,
    author: body.author?.name ?? null, text: body.text.slice(0, 140), platform: body.platform,
  };
  await api.storage.local.set({ [RECENT]: [entry, ...(await listRecent())].slice(0, RECENT_MAX) });
}

function withLock(task) {
  return navigator.locks.request('testimone-queue', task);
}

async function patchItem(id, patch) {
  const items = await listQueue();
  await saveQueue(items.map((item) => (item.id === id ? { ...item, ...patch } : item)));
}

// When it is sent, and whether it waited in the queue: the server compares clocks at delivery.
function asSent(body, queued) {
  return { ...body, context: { ...body.context, sent_at_client: new Date().toISOString(), queued } };
}

// One attempt for one queued item; the caller holds the lock. `queued`: sent later from the queue.
async function deliver(item, settings, queued) {
  let outcome;
  try {
    outcome = await postCapture(settings, asSent(item.body, queued), item.id);
  } catch (error) {
    await patchItem(item.id, { attempts: item.attempts + 1, error: `network: ${error.message}` });
    return { status: 'queued', reason: 'unreachable' };
  }
  if (outcome.status === 201 || outcome.status === 200) {
    await saveQueue((await listQueue()).filter((other) => other.id !== item.id));
    await remember(outcome.json, item.body);
    const { id, kind, sha256, links } = outcome.json;
    return { status: 'saved', id, kind, sha256, links, serverUrl: settings.serverUrl };
  }
  const message = outcome.json?.error?.message ?? `HTTP ${outcome.status}`;
  const rejected = outcome.status >= 400 && outcome.status < 500 && !RETRYABLE.has(outcome.status);
  await patchItem(item.id, { attempts: item.attempts + 1, error: message, rejected });
  if (rejected) return { status: 'rejected', error: message, field: outcome.json?.error?.field ?? null };
  return { status: 'queued', reason: outcome.status === 401 ? 'unpaired' : 'server_error', error: message };
}

/** Send one item now (a new capture). */
export function deliverOne(id, settings) {
  return withLock(async () => {
    const item = (await listQueue()).find((other) => other.id === id);
    if (!item) return { status: 'saved', duplicate: true };
    return deliver(item, settings, false);
  });
}

/** Send everything waiting, oldest first; stop at the first network failure (the server is down). */
export function flushQueue(settings, { includeRejected = false } = {}) {
  return withLock(async () => {
    const results = [];
    for (const item of await listQueue()) {
      if (item.rejected && !includeRejected) continue;
      const result = await deliver(item, settings, true);
      results.push(result);
      if (result.reason === 'unreachable') break;
    }
    return results;
  });
}
