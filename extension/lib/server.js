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

/** `key`: the capture's Idempotency-Key, the same on every retry (a lost 201 then gives the same case). */
export async function postCapture(settings, body, key) {
  const response = await fetch(`${settings.serverUrl}/api/captures`, {
    method: 'POST',
    headers: headers(settings, { 'Content-Type': 'application/json', 'Idempotency-Key': key }),
    body: JSON.stringify(body),
    credentials: 'omit',
  });
  return { status: response.status, json: await jsonOrNull(response) };
}

/** reachable: /api/health answers; paired: the token is accepted. */
export async function serverStatus(settings) {
  const status = { url: settings.serverUrl, reachable: false, paired: false, version: null, captures: [], profileMissing: false };
  try {
    const health = await fetch(`${settings.serverUrl}/api/health`, { credentials: 'omit' });
    status.reachable = health.ok;
    status.version = (await jsonOrNull(health))?.version ?? null;
    if (!health.ok || !settings.token) return status;
    const list = await fetch(`${settings.serverUrl}/api/captures?limit=5`, { headers: headers(settings), credentials: 'omit' });
    status.paired = list.ok;
    if (list.ok) status.captures = (await list.json()).items;
    const profile = list.ok ? await fetch(`${settings.serverUrl}/api/profile`, { headers: headers(settings), credentials: 'omit' }) : null;
    status.profileMissing = profile?.ok ? (await profile.json()).missing_fields.length > 0 : false;
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

/**
 * How many open deadlines fall due within `days` days, today included (null when the server does not
 * say). Asks the server's small JSON answer, not the calendar feed: the feed of a large practice is
 * megabytes.
 */
export async function countSoonDeadlines(settings, days = 14) {
  const response = await fetch(`${settings.serverUrl}/api/deadlines?within=${days}`, { headers: headers(settings), credentials: 'omit' });
  if (!response.ok) return null;
  const count = (await jsonOrNull(response))?.count;
  return Number.isInteger(count) ? count : null;
}

/**
 * Pair this extension with the server: with the one-time code the dashboard handed over after the
 * operator allowed it, or with a pasted token (which this checks). The server records this
 * extension's origin and serves only it from then on. Returns {status, token?, version?, error?}:
 * 'paired', 'unreachable' (nothing answers: not running, or another port), 'not-testimone' (something
 * else answers there), 'refused' (wrong token), 'code-refused', 'wrong-address', 'error'.
 */
export async function pair(serverUrl, { token = '', code = null } = {}) {
  let response;
  try {
    response = await fetch(`${serverUrl}/api/pair`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(code ? {} : { Authorization: `Bearer ${token}` }) },
      body: JSON.stringify(code ? { code } : {}),
      credentials: 'omit',
    });
  } catch {
    return { status: 'unreachable' };
  }
  const json = await jsonOrNull(response);
  if (response.ok && json?.paired) return { status: 'paired', token: json.token ?? token, version: json.version };
  const problem = json?.error?.code;
  if (!problem) return { status: 'not-testimone' };
  const known = { unauthorized: 'refused', pairing_code_refused: 'code-refused', host_not_allowed: 'wrong-address' };
  return { status: known[problem] ?? 'error', error: json.error.message };
}

/** Is Testimone what answers at serverUrl? 'ok', 'unreachable' or 'not-testimone'. */
export async function probe(serverUrl) {
  try {
    const health = await fetch(`${serverUrl}/api/health`, { credentials: 'omit' });
    return (await jsonOrNull(health))?.status === 'ok' ? 'ok' : 'not-testimone';
  } catch {
    return 'unreachable';
  }
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
