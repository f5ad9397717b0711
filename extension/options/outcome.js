// What a pairing attempt's outcome means for the user, in words (the status comes from lib/server.js).
import { format } from '../lib/i18n.js';

const KEYS = {
  paired: 'pairDone',
  opened: 'pairApprove',
  unreachable: 'pairServerDown',
  'not-testimone': 'pairNotTestimone',
  refused: 'pairTokenRefused',
  'code-refused': 'pairCodeRefused',
  'wrong-address': 'pairWrongAddress',
};

export function describeOutcome(result, serverUrl, messages) {
  const key = KEYS[result.status] ?? 'pairOtherError';
  return { ok: result.status === 'paired' || result.status === 'opened', text: format(messages, key, serverUrl, result.version ?? result.error ?? '') };
}
