// Pairing from the options page against real HTTP servers on loopback: each way it can fail is told
// apart and said in words (server not running, another program on that port, token refused).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { describeOutcome } from '../../extension/options/outcome.js';
import { countSoonDeadlines, pair, probe, serverStatus } from '../../extension/lib/server.js';

const locale = (lang) => JSON.parse(readFileSync(new URL(`../../extension/_locales/${lang}/messages.json`, import.meta.url), 'utf8'));
const messages = (raw) => Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, value.message]));
const [en, it] = [locale('en'), locale('it')];

async function serve(handler) {
  const server = createServer(handler);
  await new Promise((ready) => server.listen(0, '127.0.0.1', ready));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((done) => server.close(done)) };
}

function json(response, status, body) {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

test('nothing listening: the server is not running (or on another port)', async () => {
  const { url, close } = await serve(() => {});
  await close(); // the port is free again: nothing answers there
  const result = await pair(url, { token: 'x' });
  assert.equal(result.status, 'unreachable');
  assert.equal(await probe(url), 'unreachable');
  const said = describeOutcome(result, url, messages(en));
  assert.equal(said.ok, false);
  assert.match(said.text, /No Testimone server answers at http:\/\/127\.0\.0\.1:\d+\. Is it running\? Start it with make run/);
  assert.match(describeOutcome(result, url, messages(it)).text, /Nessun server Testimone risponde/);
});

test('another program on the port: not Testimone, probably a different port', async () => {
  const other = await serve((request, response) => { response.writeHead(404, { 'Content-Type': 'text/html' }); response.end('<h1>Not found</h1>'); });
  try {
    const result = await pair(other.url, { token: 'x' });
    assert.equal(result.status, 'not-testimone');
    assert.equal(await probe(other.url), 'not-testimone');
    assert.match(describeOutcome(result, other.url, messages(en)).text, /not Testimone: Testimone probably runs on a different port/);
  } finally {
    await other.close();
  }
});

test('a wrong token is refused and said so; a right one pairs', async () => {
  const seen = [];
  const testimone = await serve((request, response) => {
    seen.push(request.headers.authorization);
    if (request.url === '/api/health') return json(response, 200, { status: 'ok', version: '9.9' });
    if (request.headers.authorization === 'Bearer right') return json(response, 200, { paired: true, origin: 'x', version: '9.9' });
    return json(response, 401, { error: { code: 'unauthorized', message: 'Missing or wrong pairing token', field: 'Authorization' } });
  });
  try {
    const refused = await pair(testimone.url, { token: 'wrong' });
    assert.equal(refused.status, 'refused');
    assert.match(describeOutcome(refused, testimone.url, messages(en)).text, /refused this token/);
    const paired = await pair(testimone.url, { token: 'right' });
    assert.deepEqual(paired, { status: 'paired', token: 'right', version: '9.9' });
    assert.equal(describeOutcome(paired, testimone.url, messages(en)).text, `Paired with Testimone 9.9 at ${testimone.url}.`);
    assert.deepEqual(seen, ['Bearer wrong', 'Bearer right']);
    assert.equal(await probe(testimone.url), 'ok');
  } finally {
    await testimone.close();
  }
});

test('a pairing code is sent as the body, without a token', async () => {
  let body = null;
  const testimone = await serve((request, response) => {
    let data = '';
    request.on('data', (chunk) => { data += chunk; });
    request.on('end', () => {
      body = { json: JSON.parse(data), authorization: request.headers.authorization };
      json(response, 200, { paired: true, origin: 'x', version: '1.0', token: 'the-token' });
    });
  });
  try {
    assert.deepEqual(await pair(testimone.url, { code: 'abc' }), { status: 'paired', token: 'the-token', version: '1.0' });
    assert.deepEqual(body, { json: { code: 'abc' }, authorization: undefined });
  } finally {
    await testimone.close();
  }
});

test('the popup learns whether the business profile is still incomplete', async () => {
  let missing = ['pec'];
  const testimone = await serve((request, response) => {
    if (request.url === '/api/health') return json(response, 200, { status: 'ok', version: '1.0' });
    if (request.url.startsWith('/api/captures')) return json(response, 200, { items: [], next_cursor: null });
    return json(response, 200, { profile: {}, missing_fields: missing });
  });
  try {
    const settings = { serverUrl: testimone.url, token: 't' };
    assert.equal((await serverStatus(settings)).profileMissing, true);
    missing = [];
    assert.equal((await serverStatus(settings)).profileMissing, false);
    assert.equal((await serverStatus({ ...settings, token: '' })).profileMissing, false); // not paired: unknown
  } finally {
    await testimone.close();
  }
});

test('the badge asks how many deadlines are due soon, with the token, and shows nothing on a refusal', async () => {
  const asked = [];
  const { url, close } = await serve((request, response) => {
    asked.push([request.url, request.headers.authorization]);
    if (request.headers.authorization !== 'Bearer good') return json(response, 401, { error: { code: 'unauthorized' } });
    json(response, 200, { within_days: 14, count: 3, deadlines: [] });
  });
  try {
    assert.equal(await countSoonDeadlines({ serverUrl: url, token: 'good' }), 3);
    assert.equal(await countSoonDeadlines({ serverUrl: url, token: 'bad' }, 7), null);
    assert.deepEqual(asked, [['/api/deadlines?within=14', 'Bearer good'], ['/api/deadlines?within=7', 'Bearer bad']]);
  } finally {
    await close();
  }
});
