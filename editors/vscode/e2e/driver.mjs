// Drives the real VS Code workbench (code-server) in headless Chromium, as a user would.
//
//   node e2e/driver.mjs completion URL RESULT_JSON FILE LINE COLUMN
//     the extension starts `treellama serve` and shows its status bar item; ghost text appears
//     at the cursor, Tab takes it, the file is saved, "Show what the model saw" opens the prompt.
//   node e2e/driver.mjs agent URL RESULT_JSON CHANGED_FILE [IMAGE]
//     (with IMAGE, "Attach image" takes it through the file dialog first) an agent task is
//     started from the command palette, its steps show in the agent view, its
//     diff opens in the diff editor, and it is applied through the refactor preview and saved
//     (waits until CHANGED_FILE, the file the task edits, changes on disk).
//   node e2e/driver.mjs browser URL RESULT_JSON
//     "treellama: Open in Browser" opens the server's web page, with its token, in a new tab.
//
// Writes what it saw to RESULT_JSON (and a screenshot beside it); the assertions live in
// tests/editors/test_vscode.py.
/* global document -- the functions handed to waitForFunction run in the page */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { chromium } from 'playwright-core';

const [scenario, url, resultPath, ...rest] = process.argv.slice(2);
const result = { steps: [] };
const step = (name) => {
  result.steps.push(name);
  console.error(`vscode driver: ${name}`);
};

// The palette filters as it is typed; Enter waits until the command is the focused row, so a
// slow machine does not run whichever command was on top a moment before.
async function command(page, title) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(title);
  await focusedRow(page, title);
  await page.keyboard.press('Enter');
}

async function focusedRow(page, text) {
  const row = page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: text });
  await row.first().waitFor({ timeout: 30_000 });
}

// Waits until the quick input's text box holds `text`.
async function quickInputHolds(page, text) {
  await page.waitForFunction(
    (text) => {
      const input = document.querySelector('.quick-input-widget input');
      return input && input.offsetParent !== null && input.value.includes(text);
    },
    text, { timeout: 30_000 },
  );
}

// Saving is done when the file on disk changes; gives up after 30 s (the test then fails on
// the file's content).
async function changedOnDisk(page, path, before) {
  for (let waited = 0; waited < 30_000 && readFileSync(path, 'utf8') === before; waited += 250) {
    await page.waitForTimeout(250);
  }
}

async function completion(page, status) {
  const [filePath, line, column] = rest;
  const before = readFileSync(filePath, 'utf8');
  await page.keyboard.press('Control+P');
  await page.keyboard.type(basename(filePath));
  await page.waitForTimeout(1000);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 60_000 });
  await page.click('.monaco-editor .view-lines');
  step('file open');

  await page.keyboard.press('Control+G');
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(500);

  // Ask until a suggestion shows: the first request may wait for the model to load.
  const ghost = page.locator('.ghost-text-decoration, .ghost-text').first();
  const deadline = Date.now() + 240_000;
  while (!(await ghost.isVisible())) {
    if (Date.now() > deadline) throw new Error('no ghost text appeared');
    await command(page, 'Trigger Inline Suggestion');
    await page.waitForTimeout(3000);
  }
  result.ghostText = await ghost.textContent();
  result.statusWhileShown = (await status.textContent())?.trim();
  step('ghost text');

  // Asked for, the server sent up to three: Alt+] shows the next, Alt+[ goes back. (The
  // ghost text of one suggestion spans several decorations: read them all.)
  const allGhost = async () =>
    (await page.locator('.ghost-text-decoration, .ghost-text').allTextContents()).join('\n');
  result.wholeGhostText = await allGhost();
  await page.keyboard.press('Alt+BracketRight');
  await page.waitForTimeout(1500);
  result.nextGhostText = await allGhost();
  await page.keyboard.press('Alt+BracketLeft');
  await page.waitForTimeout(1500);
  result.backGhostText = await allGhost();
  step('cycled');

  await page.keyboard.press('Tab');
  await page.waitForTimeout(500);
  await page.keyboard.press('Control+S');
  await changedOnDisk(page, filePath, before);
  step('accepted and saved');

  await command(page, 'treellama: Show what the model saw');
  const prompt = page.locator('.monaco-editor .view-lines', { hasText: 'fim_prefix' }).first();
  await prompt.waitFor({ timeout: 30_000 });
  result.promptShown = (await prompt.textContent())?.slice(0, 2000);
  step('prompt shown');
}

async function attachImage(page, imagePath) {
  await command(page, 'treellama: Attach image to the next agent task');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type('From a file');
  await focusedRow(page, 'From a file');
  await page.keyboard.press('Enter');
  // The web workbench's own file dialog: a path box, prefilled with the folder.
  await quickInputHolds(page, '/');
  // The dialog may still be filling its box in: the path is put in until it stays.
  const box = page.locator('.quick-input-widget input').first();
  for (let tries = 0; tries < 10; tries += 1) {
    await box.fill(imagePath);
    await page.waitForTimeout(700);
    if ((await box.inputValue()) === imagePath) break;
  }
  await page.keyboard.press('Enter');
  const note = page.locator('.notifications-toasts', { hasText: 'will go with the next agent task' });
  await note.first().waitFor({ timeout: 30_000 });
  result.attachedNote = (await note.first().textContent())?.trim();
  step('image attached');
}

async function agent(page) {
  const [changedFile, imagePath] = rest;
  const before = readFileSync(changedFile, 'utf8');
  if (imagePath) await attachImage(page, imagePath);
  await command(page, 'treellama: Start an agent task');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type('make add() add');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(700);
  await page.keyboard.type('low');
  await focusedRow(page, 'low');
  await page.keyboard.press('Enter');
  step('task started');

  const view = page.locator('.pane', { hasText: 'TREELLAMA AGENT' }).first();
  await view.locator('.pane-header').click();
  await view.locator('.monaco-list-row', { hasText: 'done' }).first().waitFor({ timeout: 120_000 });
  result.agentView = (await view.locator('.pane-body').textContent())?.trim();
  step('steps shown');

  await command(page, "treellama: Review the agent task's diff");
  await page.waitForSelector('.monaco-diff-editor', { timeout: 30_000 });
  // The diff editor appears before Monaco has rendered its lines; wait for the text.
  const modified = page.locator('.monaco-diff-editor .modified .view-lines').first();
  for (let waited = 0; waited < 30_000 && !result.diffShown?.trim(); waited += 250) {
    result.diffShown = await modified.innerText();
    if (!result.diffShown.trim()) await page.waitForTimeout(250);
  }
  step('diff shown');

  await command(page, "treellama: Apply the agent task's changes");
  // The edit asks for confirmation (needsConfirmation): VS Code's refactor preview lists the
  // change unticked; the user ticks the file, then applies.
  const file = page.locator('.panel input[type="checkbox"]').first();
  await file.waitFor({ timeout: 30_000 });
  await file.click();
  const apply = page.locator('.panel .monaco-button', { hasText: /^Apply$/ }).first();
  await apply.click();
  // Applied when the preview closes and the file's tab turns dirty; saved when no tab is dirty.
  await apply.waitFor({ state: 'hidden', timeout: 30_000 });
  await command(page, 'File: Save All');
  await changedOnDisk(page, changedFile, before); // it need not be open in a tab
  step('applied and saved');
}

async function browserPage(page) {
  const opened = page.context().waitForEvent('page', { timeout: 60_000 });
  // The first request carries the token; the page then redirects to itself with a cookie.
  page.context().on('request', (request) => {
    if (request.isNavigationRequest() && !request.url().includes('?folder=')) {
      result.navigations = [...(result.navigations ?? []), request.url()];
    }
  });
  await command(page, 'treellama: Open in Browser');
  // VS Code may ask before it opens a link outside the workbench.
  const ask = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Open$/ }).first();
  const tab = await Promise.race([opened, ask.waitFor({ timeout: 60_000 }).then(() => null)]);
  if (!tab) await ask.click();
  const webPage = tab ?? (await opened);
  await webPage.waitForLoadState('domcontentloaded');
  await webPage.locator('body').waitFor({ timeout: 30_000 });
  result.openedUrl = webPage.url();
  step('page opened');
  // The page asks the API for its model and workspace, which needs the token.
  await webPage.locator('#info', { hasText: /\S/ }).waitFor({ timeout: 30_000 });
  result.info = await webPage.locator('#info').innerText();
  result.pageTitle = await webPage.title();
  result.pageText = (await webPage.locator('body').innerText()).slice(0, 2000);
  await webPage.screenshot({ path: resultPath.replace(/\.json$/, '-page.png') }).catch(() => {});
}

const scenarios = { agent, browser: browserPage, completion };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // No network beyond loopback here: Chromium's background services would only fail.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
try {
  await page.goto(url);
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  step('workbench');
  // The extension's status bar item; it appears once the extension has started the server.
  const status = page.locator('.statusbar-item', { hasText: 'treellama' }).first();
  await status.waitFor({ timeout: 120_000 });
  step('status bar item');
  await scenarios[scenario](page, status);
} catch (error) {
  result.error = String(error);
} finally {
  // What the screen showed last: the first thing to look at when this fails.
  result.statusBar = await page.locator('.statusbar').innerText().catch(() => null);
  await page.screenshot({ path: resultPath.replace(/\.json$/, '.png') }).catch(() => {});
  writeFileSync(resultPath, JSON.stringify(result, null, 2));
  await browser.close();
}
