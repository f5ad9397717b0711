#!/usr/bin/env node
// Builds dist/testimone-extension.zip from extension/ (no bundler: Chrome and Firefox load the same
// files, so one zip serves both), minus the maintainer's Node tools. Uses web-ext's zip builder.
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import webExt from 'web-ext';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
await mkdir(dist, { recursive: true });
const { extensionPath } = await webExt.cmd.build({
  sourceDir: `${root}extension`, artifactsDir: dist, ignoreFiles: ['tools', 'tools/**'], overwriteDest: true,
  filename: 'testimone-extension.zip',
}, { shouldExitProgram: false });
console.log(extensionPath);
