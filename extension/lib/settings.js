// User settings, kept in storage.local (the service worker keeps no state of its own).
import { api } from './api.js';

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8765';
export const LANGUAGES = ['it', 'en'];

export async function getSettings() {
  const stored = await api.storage.local.get(['serverUrl', 'token', 'language']);
  return {
    serverUrl: normaliseServerUrl(stored.serverUrl) ?? DEFAULT_SERVER_URL,
    token: stored.token || '',
    language: LANGUAGES.includes(stored.language) ? stored.language : 'auto',
  };
}

/** Only a loopback http origin is accepted: the server runs on this computer, never elsewhere. */
export function normaliseServerUrl(value) {
  if (!value) return null;
  try {
    const url = new URL(value);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return url.protocol === 'http:' && loopback ? url.origin : null;
  } catch {
    return null;
  }
}

export function effectiveLanguage(setting, uiLanguage) {
  if (LANGUAGES.includes(setting)) return setting;
  return (uiLanguage || '').toLowerCase().startsWith('it') ? 'it' : 'en';
}
