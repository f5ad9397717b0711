// One name for the WebExtension API in Chrome (chrome.*, now also browser.*) and Firefox (browser.*).
export const api = globalThis.browser ?? globalThis.chrome;
