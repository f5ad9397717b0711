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
  // The extension's item sits near the end of the menu, before the inspector's; how many items follow
  // it depends on the build, so the nearest positions are tried in turn (Escape closes a wrong pick).
  let dialog = null;
  let ups = 0;
  for (ups of [1, 2, 3]) {
    xdotool('mousemove', x, y, 'click', 3);
    await sleep(700);
    xdotool('key', '--delay', 120, ...Array(ups).fill('Up'), 'Return');
    dialog = await page.waitForSelector('>>> section[role="dialog"]', { timeout: 4000 }).catch(() => null);
    if (dialog) break;
    xdotool('key', 'Escape');
    await page.bringToFront();
  }
  if (!dialog) throw new Error('the context menu item did not open the dialog');
  const author = await page.$eval('>>> section[role="dialog"] dd', (node) => node.textContent);
  const text = await page.$eval('>>> [data-field="text"]', (node) => node.textContent);
  await page.locator('>>> button[data-action="testimonial"]').click();
  const result = await page.waitForFunction(() => {
    const node = document.querySelector('[data-testimone-ui=dialog]').shadowRoot.querySelector('.result');
    return !node.hidden && { state: node.dataset.state, text: node.textContent };
  }, { timeout: 30000 }).then((handle) => handle.jsonValue());
  stdout.write(`${JSON.stringify({ ups, author, text, result, userAgent: await browser.userAgent() })}\n`);
} finally {
  await browser.close();
}
