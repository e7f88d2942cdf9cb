// Opens treellama's web page in headless Chromium (playwright-core) and reads what a newcomer
// sees before any task or completion, or the completion charts once there are some:
//   node tests/editors/web_charts_driver.mjs URL RESULT_JSON
// Writes the visible empty states, the charts' axis titles, tick labels and marks, and the
// captions to RESULT_JSON, and a screenshot beside it; test_web_page.py asserts on them.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(process.env.PLAYWRIGHT_FROM);
const { chromium } = require('playwright-core');
const [url, resultPath] = process.argv.slice(2);
const result = {};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('info').textContent.length > 0);
  // Loaded: the task list and the statistics have been drawn (or said to be empty).
  await page.waitForFunction(() => !document.getElementById('stats-empty').hidden
    || !document.getElementById('latency-figure').hidden);
  await page.waitForTimeout(300);
  result.empty = await page.$$eval('.empty', (items) => items
    .filter((item) => item.offsetParent !== null).map((item) => item.textContent.replace(/\s+/g, ' ').trim()));
  result.captions = await page.$$eval('figcaption', (items) => items
    .filter((item) => item.offsetParent !== null).map((item) => item.textContent));
  result.charts = await page.evaluate(() => Object.fromEntries(['acceptance', 'latency'].map((id) => {
    const chart = window.Chart && window.Chart.getChart(id);
    if (!chart) return [id, null];
    const axes = Object.fromEntries(['x', 'y'].map((a) => [a, {
      title: chart.options.scales[a].title.text,
      ticks: chart.scales[a].ticks.map((t) => t.label),
    }]));
    const marks = Object.values(chart.options.plugins.annotation?.annotations || {})
      .map((mark) => mark.label.content);
    return [id, { axes, marks, labels: chart.data.labels, data: chart.data.datasets[0].data }];
  })));
  result.errors = errors;
  await page.screenshot({ path: resultPath.replace(/\.json$/, '.png'), fullPage: true });
} finally {
  await browser.close();
  writeFileSync(resultPath, JSON.stringify(result, null, 2));
}
