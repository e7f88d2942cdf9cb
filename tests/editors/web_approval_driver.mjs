// Drives treellama's web page in headless Chromium: a task whose command needs approval asks
// in the page, and the user answers it by keyboard.
//   node tests/editors/web_approval_driver.mjs URL RESULT_JSON
// Writes what it saw to RESULT_JSON; the assertions live in tests/editors/test_web_page.py.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(process.env.PLAYWRIGHT_FROM);
const { chromium } = require('playwright-core');
const [url, resultPath] = process.argv.slice(2);
const result = {};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('info').textContent.length > 0);
  await page.selectOption('#effort', 'low');
  await page.focus('#instruction');
  await page.keyboard.type('touch the file');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#approval:not([hidden])', { timeout: 60_000 });
  result.question = await page.textContent('#approval-text');
  result.focused = await page.evaluate(() => document.activeElement.id);
  await page.keyboard.press('Enter'); // "Allow once" has the focus
  await page.waitForSelector('#steps li[data-kind="done"], #steps li[data-kind="failed"]',
                             { timeout: 60_000 });
  result.steps = await page.$$eval('#steps li', (items) => items.map((i) => i.dataset.kind));
  result.approvalHidden = await page.$eval('#approval', (box) => box.hidden);
  result.status = await page.textContent('#task-status');
} finally {
  writeFileSync(resultPath, JSON.stringify(result, null, 2));
  await browser.close();
}
