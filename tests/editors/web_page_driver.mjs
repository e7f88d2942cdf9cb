// Drives treellama's web page in headless Chromium (playwright-core, as the VS Code test does),
// as a user would with the keyboard:
//   node tests/editors/web_page_driver.mjs URL RESULT_JSON CHANGED_FILE IMAGE
// opens the page with its token, drops and pastes the screenshot IMAGE, starts a task, watches its steps arrive live, reads the
// side-by-side diff, applies it (accepting the confirmation), and waits for CHANGED_FILE to
// change on disk. Writes what it saw to RESULT_JSON and a screenshot beside it; the
// assertions live in tests/editors/test_web_page.py.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';

const require = createRequire(process.env.PLAYWRIGHT_FROM);
const { chromium } = require('playwright-core');
const [url, resultPath, changedFile, imageFile] = process.argv.slice(2);
const result = { steps: [], dialogs: [] };
const before = readFileSync(changedFile, 'utf8');

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  page.on('dialog', async (dialog) => {
    result.dialogs.push(dialog.message());
    await dialog.accept();
  });
  await page.goto(url);
  result.url = page.url(); // the token is gone from the address: it is a cookie now
  await page.waitForFunction(() => document.getElementById('info').textContent.length > 0);
  result.info = await page.textContent('#info');

  // A screenshot dropped on the form, and the same pasted into the instruction, as the
  // browser hands them over: files in a DataTransfer.
  const bytes = [...readFileSync(imageFile)];
  for (const [target, type, name] of [['#start', 'drop', 'dropped.png'], ['#instruction', 'paste', 'pasted.png']]) {
    await page.evaluate(({ target, type, name, bytes }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name, { type: 'image/png' }));
      const init = { bubbles: true, cancelable: true };
      const event = type === 'drop'
        ? new DragEvent('drop', { ...init, dataTransfer: transfer })
        : new ClipboardEvent('paste', { ...init, clipboardData: transfer });
      document.querySelector(target).dispatchEvent(event);
    }, { target, type, name, bytes });
  }
  await page.waitForFunction(() => document.querySelectorAll('#attached li').length === 2);
  result.attached = await page.$$eval('#attached li', (items) => items.map((i) => i.textContent));

  // Low effort: no planning step, so the scripted model's first reply is the first tool call.
  await page.selectOption('#effort', 'low');
  await page.focus('#instruction');
  await page.keyboard.type('make add() add');
  await page.keyboard.press('Control+Enter');
  await page.waitForSelector('#steps li[data-kind="done"], #steps li[data-kind="failed"]',
                             { timeout: 60_000 });
  result.steps = await page.$$eval('#steps li', (items) => items.map((i) => i.dataset.kind));
  result.imageSteps = await page.$$eval('#steps li[data-kind="image"]', (items) => items.map((i) => i.textContent));
  await page.waitForSelector('#diff .d2h-file-side-diff', { timeout: 30_000 });
  result.sides = await page.$$eval('#diff .d2h-file-side-diff', (sides) => sides.length);
  result.removed = await page.$$eval('#diff .d2h-del .d2h-code-line-ctn', (c) => c.map((x) => x.textContent));
  result.added = await page.$$eval('#diff .d2h-ins .d2h-code-line-ctn', (c) => c.map((x) => x.textContent));
  result.highlighted = await page.$$eval('#diff .hljs-keyword', (k) => k.map((x) => x.textContent));
  result.log = await page.textContent('#log');
  result.tasks = await page.$$eval('#tasks button', (b) => b.map((x) => x.textContent));

  await page.focus('#apply');
  await page.keyboard.press('Enter');
  for (let waited = 0; waited < 30_000 && readFileSync(changedFile, 'utf8') === before; waited += 200) {
    await page.waitForTimeout(200);
  }
  result.after = readFileSync(changedFile, 'utf8');
  result.status = await page.textContent('#task-status');
  await page.screenshot({ path: resultPath.replace(/\.json$/, '.png'), fullPage: true });
} finally {
  writeFileSync(resultPath, JSON.stringify(result, null, 2));
  await browser.close();
}
