// Firefox ESR with the unpacked extension, on a virtual screen (Xvfb): puppeteer-core drives the page
// over WebDriver BiDi (Debian has no geckodriver), xdotool does the real right-click and picks
// "Capture with Testimone" in Firefox's own context menu (BiDi cannot reach extension pages or browser
// menus). Prints what the in-page dialog showed and its result, as JSON.
//   DISPLAY=:N node tests/e2e/firefox_capture.mjs <firefox> <extension dir> <page url> <selector>
import { execFileSync } from 'node:child_process';
import { argv, env, stdout } from 'node:process';
import puppeteer from 'puppeteer-core';

const [firefox, extensionDir, pageUrl, selector] = argv.slice(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const xdotool = (...args) => execFileSync('xdotool', args.map(String), { env });

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: firefox,
  headless: false,
  env,
  acceptInsecureCerts: true,
  defaultViewport: null,
  extraPrefsFirefox: { 'network.dns.localDomains': new URL(pageUrl).hostname }, // fixture site on 127.0.0.1
});
try {
  await browser.installExtension(extensionDir);
  const page = await browser.newPage();
  await page.goto(pageUrl);
  await page.bringToFront();
  const target = await page.waitForSelector(selector);
  const [x, y] = await target.evaluate((node) => {
    const rect = node.getBoundingClientRect();
    return [Math.round(window.mozInnerScreenX + rect.left + 20), Math.round(window.mozInnerScreenY + rect.top + rect.height / 2)];
  });
  // Firefox puts the extension's item last in the page's context menu: one Up from the top selects it.
  // Without a window manager the keyboard goes to the focused window: focus Firefox's first. A busy
  // machine can be slow to open the menu, hence a few attempts (Escape closes a menu left open).
  let dialog = null;
  let attempts = 0;
  while (!dialog && attempts < 3) {
    attempts += 1;
    xdotool('search', '--onlyvisible', '--class', 'firefox', 'windowfocus', '--sync');
    xdotool('mousemove', x, y, 'click', 3);
    await sleep(1000 * attempts);
    xdotool('key', '--delay', 150, 'Up', 'Return');
    dialog = await page.waitForSelector('>>> section[role="dialog"]', { timeout: 5000 }).catch(() => null);
    if (!dialog) xdotool('key', 'Escape');
  }
  if (!dialog) throw new Error('the context menu item did not open the dialog');
  const author = await page.$eval('>>> section[role="dialog"] dd', (node) => node.textContent);
  const text = await page.$eval('>>> [data-field="text"]', (node) => node.textContent);
  await page.locator('>>> button[data-action="testimonial"]').click();
  const result = await page.waitForFunction(() => {
    const node = document.querySelector('[data-testimone-ui=dialog]').shadowRoot.querySelector('.result');
    return !node.hidden && { state: node.dataset.state, text: node.textContent };
  }, { timeout: 30000 }).then((handle) => handle.jsonValue());
  stdout.write(`${JSON.stringify({ attempts, author, text, result, userAgent: await browser.userAgent() })}\n`);
} finally {
  await browser.close();
}
