/**
 * The HTML report in a real browser (Debian's Chromium, driven by playwright-core): it renders,
 * sorts, expands on click, and links the timeline to the table. CI installs Chromium; on a
 * developer machine without it the test is skipped with a note, never silently passed.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runCli } from '../support/helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') throw new Error(`CI needs Chromium at ${CHROMIUM} for the report test (apt-get install chromium)`);
if (!available) console.warn(`skipping the browser test of the HTML report: no Chromium at ${CHROMIUM}`);
const describeInBrowser = available ? describe : describe.skip;

describeInBrowser('HTML report in Chromium', () => {
  let browser: Browser;
  let page: Page;
  const dir = mkdtempSync(path.join(tmpdir(), 'nla-report-'));
  const report = path.join(dir, 'report.html');

  beforeAll(async () => {
    const run = runCli(['--report', report, 'samples/']);
    expect(run.status).toBe(0);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith('file://')) external.push(request.url());
    });
    await page.goto(`file://${report}`);
    expect(external).toEqual([]); // nothing fetched from the network
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('renders the title, the timeline and one row per incident, details folded', async () => {
    expect(await page.title()).toBe('Nexus log analysis: 11 incidents');
    expect(await page.locator('#timeline circle.dot').count()).toBe(11);
    expect(await page.locator('tr.incident').count()).toBe(11);
    expect(await page.locator('tr.details:visible').count()).toBe(0);
  });

  it('a click on a row unfolds its diagnosis and evidence; a second folds it', async () => {
    const row = page.locator('tr.incident').first();
    await row.click();
    const details = page.locator('tr.details').first();
    await expect(details.isVisible()).resolves.toBe(true);
    expect(await row.getAttribute('aria-expanded')).toBe('true');
    expect(await details.innerText()).toContain('layer-check-answered-by-other-repository');
    expect(await details.locator('pre.evidence').innerText()).toContain("name='ctbots-docker'}");
    await row.click();
    await expect(details.isVisible()).resolves.toBe(false);
  });

  it('a click on a column header sorts the table, again reverses it', async () => {
    const layersOfRows = async (): Promise<number[]> =>
      (await page.locator('tr.incident td:nth-child(6)').allInnerTexts()).map(Number);
    await page.locator('th[data-key="layers"] button').click();
    const ascending = await layersOfRows();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.locator('th[data-key="layers"] button').click();
    const descending = await layersOfRows();
    expect(descending).toEqual([...ascending].reverse());
    expect(descending[0]).toBe(5);
    expect(await page.locator('th[data-key="layers"]').getAttribute('aria-sort')).toBe('descending');
  });

  it('a click on a timeline dot opens its row', async () => {
    const dot = page.locator('#timeline circle.dot').last();
    const id = await dot.getAttribute('data-id');
    await dot.click({ force: true });
    expect(await page.locator(`#incident-${id}`).getAttribute('aria-expanded')).toBe('true');
  });

  it('takes a screenshot (what docs/report.png shows)', async () => {
    const shot = path.join(dir, 'report.png');
    await page.screenshot({ path: shot });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });
});
