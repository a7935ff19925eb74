#!/usr/bin/env node
'use strict';
// Makes docs/report.png: the HTML report of samples/ from its timeline down, in headless
// Chromium (npm run screenshot). Needs Debian's chromium (or CHROMIUM_PATH).
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const root = path.resolve(__dirname, '..', '..');
const report = path.join(os.tmpdir(), 'nexus-log-analyzer-sample-report.html');
execFileSync(process.execPath, [path.join(root, 'bin', 'nexus-log-analyzer.js'), '-q', '--report', report, 'samples/'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  await page.goto(`file://${report}`);
  // The timeline and the first rows of the table (the triage view above it is text).
  await page.evaluate(() => document.getElementById('timeline-title').scrollIntoView());
  await page.screenshot({ path: path.join(root, 'docs', 'report.png') });
  await browser.close();
  console.log('wrote docs/report.png');
})();
