// Opens the portfolio report (an HTML file) in headless Chromium, as a coordinator would, and
// takes screenshots at desktop and mobile width. Prints one JSON line: the page title, how
// many charts (inline SVG) it shows, and every request that was not for the file itself
// (there must be none: the report opens offline). Run inside a loopback-only namespace.
//
//   node tests/browser/report_shot.cjs REPORT.html OUT_DIR
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');

const ROOT = path.resolve(__dirname, '..', '..');
const CHROMIUM = process.env.JOURNEY_CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function main() {
  const [report, outDir] = process.argv.slice(2);
  const { chromium } = require(path.join(ROOT, 'node_modules', 'playwright-core'));
  fs.mkdirSync(outDir, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'omtanke-report-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 },
  });
  const url = 'file://' + path.resolve(report);
  const external = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('request', (r) => { if (r.url() !== url && !r.url().startsWith('data:')) external.push(r.url()); });
    await page.goto(url, { waitUntil: 'load', timeout: 60000 });
    const svgs = await page.locator('figure svg').count();
    const title = await page.title();
    await page.screenshot({ path: path.join(outDir, 'report-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    await page.screenshot({ path: path.join(outDir, 'report-mobile.png'), fullPage: true });
    process.stdout.write(JSON.stringify({ title, svgs, external, overflow }) + '\n');
  } finally {
    await context.close();
  }
}

main().catch((error) => { process.stderr.write(String(error && error.stack || error) + '\n'); process.exit(1); });
