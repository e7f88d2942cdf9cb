// Drives the real VS Code workbench (code-server) in headless Chromium, as a user would:
// the treellama extension must start `treellama serve`, show its status bar item, put an
// inline suggestion (ghost text) at the cursor, take it with Tab, and show what the model saw.
//
//   node e2e/driver.mjs URL FILE_NAME LINE COLUMN RESULT_JSON
//
// Writes what it saw to RESULT_JSON; the assertions live in tests/editors/test_vscode.py.
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [url, fileName, line, column, resultPath] = process.argv.slice(2);
const result = { steps: [] };
const step = (name) => {
  result.steps.push(name);
  console.error(`vscode driver: ${name}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // No network beyond loopback here: Chromium's background services would only fail.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  step('workbench');

  // The extension's status bar item; it starts with the server.
  const status = page.locator('.statusbar-item', { hasText: 'treellama' }).first();
  await status.waitFor({ timeout: 120_000 });
  step('status bar item');

  await page.keyboard.press('Control+P');
  await page.keyboard.type(fileName);
  await page.waitForTimeout(1000);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 60_000 });
  await page.click('.monaco-editor .view-lines');
  step('file open');

  await page.keyboard.press('Control+G');
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(500);

  // Ask for a suggestion until one shows: the first request may wait for the model to load.
  const ghost = page.locator('.ghost-text-decoration, .ghost-text').first();
  const deadline = Date.now() + 240_000;
  while (!(await ghost.isVisible())) {
    if (Date.now() > deadline) throw new Error('no ghost text appeared');
    await page.keyboard.press('F1');
    await page.keyboard.type('Trigger Inline Suggestion');
    await page.waitForTimeout(500);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(3000);
  }
  result.ghostText = await ghost.textContent();
  result.statusWhileShown = (await status.textContent())?.trim();
  step('ghost text');

  await page.keyboard.press('Tab');
  await page.waitForTimeout(500);
  await page.keyboard.press('Control+S');
  await page.waitForTimeout(1500);
  step('accepted and saved');

  await page.keyboard.press('F1');
  await page.keyboard.type('treellama: Show what the model saw');
  await page.waitForTimeout(1000);
  await page.keyboard.press('Enter');
  const prompt = page.locator('.monaco-editor .view-lines', { hasText: 'fim_prefix' }).first();
  await prompt.waitFor({ timeout: 30_000 });
  result.promptShown = (await prompt.textContent())?.slice(0, 2000);
  step('prompt shown');
} catch (error) {
  result.error = String(error);
} finally {
  // What the screen showed last: the first thing to look at when this fails.
  for (const page of browser.contexts().flatMap((context) => context.pages())) {
    result.statusBar = await page.locator('.statusbar').textContent().catch(() => null);
    await page.screenshot({ path: resultPath.replace(/\.json$/, '.png') }).catch(() => {});
  }
  writeFileSync(resultPath, JSON.stringify(result, null, 2));
  await browser.close();
}
