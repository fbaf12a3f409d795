// Drives the real Neo4j Browser that a scripts/neo4j-local server serves, in headless Debian chromium, as a
// responder would: connect, apply keytrail's style with :style, set the parameters, run a query, and report what
// the Browser drew (node captions, error frames) as one JSON line; saves a screenshot.
// Usage: node neo4j-browser.mjs BROWSER_URL USER STYLE_FILE SCREENSHOT COMMAND_FILE... (password on stdin)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(process.env.KEYTRAIL_NODE_PREFIX + '/package.json');
const { chromium } = require('playwright-core');
const [, , base, user, styleFile, screenshot, ...commandFiles] = process.argv;
const password = readFileSync(0, 'utf8').trim();

const browser = await chromium.launch({
  executablePath: process.env.KEYTRAIL_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(base, { waitUntil: 'networkidle' });
  await page.fill('[data-testid="username"]', user);
  await page.fill('[data-testid="password"]', password);
  await page.click('[data-testid="connect"]');
  await page.waitForSelector('[data-testid="connect"]', { state: 'detached', timeout: 60000 });
  const run = async (text) => {
    const editor = page.locator('.monaco-editor textarea').first();
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await editor.fill(text);
    await page.click('[data-testid="editor-Run"]');
    await page.waitForTimeout(2500);
  };
  // The style sheet on one line: the Browser's :style command takes GraSS as its argument.
  await run(':style ' + readFileSync(styleFile, 'utf8').replace(/\s+/g, ' '));
  for (const file of commandFiles) {
    await run(readFileSync(file, 'utf8').trim());
  }
  await page.waitForTimeout(2000);
  await page.screenshot({ path: screenshot });
  const captions = await page.$$eval('svg g.node text', (els) => els.map((e) => e.textContent.trim()));
  const nodes = await page.$$eval('svg g.node', (els) => els.length);
  const errors = await page.$$eval('[data-testid="cypherFrameErrorMessage"], [data-testid="frameContents"] .error-message', (els) => els.map((e) => e.innerText.slice(0, 300)));
  const failed = await page.$$eval('[data-testid="frame"] [class*="rror"]', (els) => els.map((e) => e.innerText.slice(0, 300)).filter((t) => t));
  console.log(JSON.stringify({ nodes, captions, errors: [...errors, ...failed] }));
} finally {
  await browser.close();
}
