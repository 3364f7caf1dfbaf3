// Drives the pages of `datalab serve` in headless Chromium the way a reader
// would, scripts off: opens the catalog, filters it by level with the form,
// follows a dataset's link, and takes screenshots; then opens every page it
// saw again with scripts on, only to inject axe-core and check WCAG 2 A/AA.
//
// Usage: node server_check.js BASE_URL LEVEL OUT_DIR PROFILE_DIR [EXTRA_PATH...]
// LEVEL is the value of the level filter to submit (e.g. non_public);
// EXTRA_PATHS are more pages to screenshot and audit (e.g. /runs).
// Environment: CHROMIUM, the browser (default /usr/bin/chromium).
// Prints one JSON object on stdout: what the walk saw, the audit of each
// page, every request that left BASE_URL, and the screenshots' paths.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const [base, level, outDir, profile, ...extra] = process.argv.slice(2);
if (!base || !level || !outDir || !profile) {
  console.error('usage: node server_check.js BASE_URL LEVEL OUT_DIR PROFILE_DIR [EXTRA_PATH...]');
  process.exit(2);
}
const origin = new URL(base).origin;
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
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

// open launches a browser with a fresh profile; every request that leaves
// the server is recorded and refused.
async function open(name, javaScriptEnabled, requests) {
  const context = await chromium.launchPersistentContext(path.join(profile, name), {
    executablePath,
    headless: true,
    args,
    javaScriptEnabled,
    // axe is injected into pages whose policy forbids scripts.
    bypassCSP: javaScriptEnabled,
    viewport: { width: 1280, height: 900 },
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
  });
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin + '/')) {
      return route.continue();
    }
    requests.push(u);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  return { context, page };
}

async function shoot(page, name, screenshots) {
  const file = path.join(outDir, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
}

async function main() {
  const requests = [];
  const screenshots = [];
  const visited = [];
  const walk = {};

  {
    const { context, page } = await open('reader', false, requests);
    let resp = await page.goto(base + '/', { waitUntil: 'load' });
    walk.catalogStatus = resp.status();
    walk.catalogRows = await page.locator('#jeux tbody tr').count();
    visited.push(page.url());
    await shoot(page, 'catalog', screenshots);

    // Filter by level: choose it in the form and submit, as a reader does.
    await page.selectOption('#level', level);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.filters button[type=submit]')]);
    walk.filteredURL = page.url();
    walk.filteredRows = await page.locator('#jeux tbody tr').count();
    walk.filteredBadges = await page.locator('#jeux tbody tr td:nth-child(2) .level').allTextContents();
    walk.selectedLevel = await page.locator('#level').inputValue();
    visited.push(page.url());
    await shoot(page, 'catalog-filtered', screenshots);

    // Follow the first dataset's link.
    const link = page.locator('#jeux tbody tr th a').first();
    walk.followedTitle = (await link.textContent()).trim();
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.click()]);
    walk.datasetURL = page.url();
    walk.datasetH1 = (await page.locator('h1').textContent()).trim();
    walk.datasetHasGraph = await page.locator('svg.lineage[role=img]').count();
    visited.push(page.url());
    await shoot(page, 'dataset', screenshots);

    for (const p of extra) {
      resp = await page.goto(base + p, { waitUntil: 'load' });
      if (!resp.ok()) {
        throw new Error(`${p}: status ${resp.status()}`);
      }
      visited.push(page.url());
      await shoot(page, p.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-') || 'index', screenshots);
    }

    // A phone: the dataset page, narrow.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(walk.datasetURL, { waitUntil: 'load' });
    await shoot(page, 'dataset-narrow', screenshots);
    await context.close();
  }

  // axe needs scripts: a second browser, used only for the audit.
  const audits = [];
  const { context, page } = await open('axe', true, requests);
  let engine = '';
  for (const u of visited) {
    await page.goto(u, { waitUntil: 'load' });
    await page.addScriptTag({ content: axeSource });
    const results = await page.evaluate(
      (values) => window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations', 'incomplete'] }),
      tags,
    );
    engine = results.testEngine.version;
    const summarise = (r) => ({
      id: r.id,
      impact: r.impact,
      help: r.help,
      helpUrl: r.helpUrl,
      nodes: r.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
    });
    audits.push({
      url: u,
      violations: results.violations.map(summarise),
      incomplete: results.incomplete.map(summarise),
      passes: results.passes.length,
    });
  }
  await context.close();

  process.stdout.write(JSON.stringify({ axe: engine, tags, walk, audits, requests, screenshots }) + '\n');
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exit(1);
});
