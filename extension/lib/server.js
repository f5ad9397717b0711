// The only code that talks to the Testimone server (runs in the background: a page's content
// script may not reach 127.0.0.1 under Chromium's Local Network Access rules).

function headers(settings, extra = {}) {
  return { Authorization: `Bearer ${settings.token}`, ...extra };
}

async function jsonOrNull(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

export async function postCapture(settings, body) {
  const response = await fetch(`${settings.serverUrl}/api/captures`, {
    method: 'POST',
    headers: headers(settings, { 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
    credentials: 'omit',
  });
  return { status: response.status, json: await jsonOrNull(response) };
}

/** reachable: /api/health answers; paired: the token is accepted. */
export async function serverStatus(settings) {
  const status = { url: settings.serverUrl, reachable: false, paired: false, version: null, captures: [] };
  try {
    const health = await fetch(`${settings.serverUrl}/api/health`, { credentials: 'omit' });
    status.reachable = health.ok;
    status.version = (await jsonOrNull(health))?.version ?? null;
    if (!health.ok || !settings.token) return status;
    const list = await fetch(`${settings.serverUrl}/api/captures?limit=5`, { headers: headers(settings), credentials: 'omit' });
    status.paired = list.ok;
    if (list.ok) status.captures = (await list.json()).items;
  } catch {
    // Unreachable: the fields above already say so.
  }
  return status;
}

export async function fetchDocument(settings, path) {
  const response = await fetch(`${settings.serverUrl}${path}`, { headers: headers(settings), credentials: 'omit' });
  if (!response.ok) throw new Error((await jsonOrNull(response))?.error?.message ?? `HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Deadlines in the next `days` days, from the iCalendar feed (null when the server has none). */
export async function countSoonDeadlines(settings, days = 14, now = new Date()) {
  const response = await fetch(`${settings.serverUrl}/api/deadlines.ics`, { headers: headers(settings), credentials: 'omit' });
  if (!response.ok) return null;
  return countEventsWithin(await response.text(), days, now);
}

export function countEventsWithin(ics, days, now) {
  const limit = now.getTime() + days * 86400000;
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  let count = 0;
  for (const match of ics.matchAll(/^DTSTART[^:\n]*:(\d{4})(\d{2})(\d{2})/gm)) {
    const when = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])).getTime();
    if (when >= today && when <= limit) count += 1;
  }
  return count;
}

/**
 * The dashboard's "Connect the extension" page on the configured server shows the token in
 * <input id="pairing-token" value="…">; only that (loopback) origin is ever read.
 */
export async function readPairingToken(serverUrl) {
  const response = await fetch(`${serverUrl}/connect`, { credentials: 'omit' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const match = (await response.text()).match(/id="pairing-token"[^>]*\svalue="([A-Za-z0-9_\-.~]+)"/);
  if (!match) throw new Error('no pairing token on the Connect page');
  return match[1];
}

/** Earlier cases of the same comment: by its permalink, else by the SHA-256 of its text. */
export async function findEarlierCaptures(settings, { permalink, text }) {
  const query = new URLSearchParams({ limit: '5' });
  if (permalink) query.set('permalink', permalink);
  else if (text) query.set('text_sha256', await sha256Hex(text));
  else return [];
  const response = await fetch(`${settings.serverUrl}/api/captures?${query}`, { headers: headers(settings), credentials: 'omit' });
  return response.ok ? (await response.json()).items : [];
}

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}
