#!/usr/bin/env node
// Builds dist/testimone-chrome.zip and dist/testimone-firefox.zip from extension/ (no bundler:
// the same files for both browsers, minus the maintainer's Node tools). Uses web-ext's zip builder.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import webExt from 'web-ext';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
await mkdir(dist, { recursive: true });
for (const target of ['chrome', 'firefox']) {
  const { extensionPath } = await webExt.cmd.build({
    sourceDir: `${root}extension`, artifactsDir: dist, ignoreFiles: ['tools', 'tools/**'], overwriteDest: true,
    filename: `testimone-${target}.zip`,
  }, { shouldExitProgram: false });
  console.log(extensionPath);
}
