// Opens a report.html in headless Chromium the way a reader would (no
// JavaScript), takes full-page screenshots, then opens it again with
// JavaScript on only to inject axe-core and check WCAG 2 A/AA.
//
// Usage: node check.js REPORT_HTML SCREENSHOT_PNG PROFILE_DIR
// Environment: CHROMIUM, the browser (default /usr/bin/chromium).
// Prints one JSON object on stdout: violations, incomplete checks, every
// request that was not for the file itself, and the screenshots' paths.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { chromium } = require('playwright-core');

const [report, screenshot, profile] = process.argv.slice(2);
if (!report || !screenshot || !profile) {
  console.error('usage: node check.js REPORT_HTML SCREENSHOT_PNG PROFILE_DIR');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const args = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const url = pathToFileURL(path.resolve(report)).href;
const axeSource = require.resolve('axe-core/axe.min.js');
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

// open launches a browser with a fresh profile and loads the report; every
// request other than the report itself is recorded and refused.
async function open(name, javaScriptEnabled, viewport, requests) {
  const context = await chromium.launchPersistentContext(path.join(profile, name), {
    executablePath,
    headless: true,
    args,
    javaScriptEnabled,
    viewport,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
  });
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) {
      return route.continue();
    }
    requests.push(u);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  const response = await page.goto(url, { waitUntil: 'load' });
  if (response && !response.ok()) {
    throw new Error(`${url}: status ${response.status()}`);
  }
  return { context, page };
}

async function main() {
  const requests = [];
  const screenshots = [];

  // What a reader sees, scripts off: wide screen, then a phone.
  {
    const { context, page } = await open('reader', false, { width: 1280, height: 900 }, requests);
    await page.screenshot({ path: screenshot, fullPage: true });
    screenshots.push(screenshot);
    const narrow = screenshot.replace(/\.png$/, '') + '-narrow.png';
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: narrow, fullPage: true });
    screenshots.push(narrow);
    await context.close();
  }

  // axe needs scripts: a second browser, used only for the audit.
  const { context, page } = await open('axe', true, { width: 1280, height: 900 }, requests);
  await page.addScriptTag({ content: fs.readFileSync(axeSource, 'utf8') });
  const results = await page.evaluate(
    (values) => window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations', 'incomplete'] }),
    tags,
  );
  await context.close();

  const summarise = (r) => ({
    id: r.id,
    impact: r.impact,
    help: r.help,
    helpUrl: r.helpUrl,
    nodes: r.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
  });
  process.stdout.write(
    JSON.stringify({
      axe: results.testEngine.version,
      tags,
      violations: results.violations.map(summarise),
      incomplete: results.incomplete.map(summarise),
      passes: results.passes.length,
      requests,
      screenshots,
    }) + '\n',
  );
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
