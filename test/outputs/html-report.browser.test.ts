/**
 * The HTML report in a real browser (Debian's Chromium, driven by playwright-core): it renders,
 * sorts, expands on click, links the timeline to the table, and keeps the timeline's dots apart
 * when one incident is far from the others in time. CI installs Chromium; on a
 * developer machine without it the test is skipped with a note, never silently passed.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { missingLayerLine, rejectionLine, runCli, SAMPLES } from '../support/helpers';

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
    // samples/README.md, "What the demo prints": `npm run demo` prints N incidents.
    const documented = Number(/prints (\d+) incidents/.exec(readFileSync(path.join(SAMPLES, 'README.md'), 'utf8'))?.[1]);
    expect(documented).toBeGreaterThan(10);
    expect(await page.title()).toBe(`Nexus log analysis: ${documented} incidents`);
    expect(await page.locator('#timeline circle.dot').count()).toBe(documented);
    expect(await page.locator('tr.incident').count()).toBe(documented);
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
    const keys = await page.locator('th[data-key]').evaluateAll((headers) => headers.map((th) => th.getAttribute('data-key')));
    const countColumn = keys.indexOf('count') + 1;
    expect(countColumn).toBeGreaterThan(0);
    const countsOfRows = async (): Promise<number[]> =>
      (await page.locator(`tr.incident td:nth-child(${countColumn})`).allInnerTexts()).map((text) => Number(text.replace(/\D/g, '')));
    await page.locator('th[data-key="count"] button').click();
    const ascending = await countsOfRows();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.locator('th[data-key="count"] button').click();
    const descending = await countsOfRows();
    expect(descending).toEqual([...ascending].sort((a, b) => b - a));
    expect(descending[0]).toBeGreaterThan(descending[descending.length - 1] as number);
    expect(await page.locator('th[data-key="count"]').getAttribute('aria-sort')).toBe('descending');
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

  describe('a timeline with an outlier: one push 50 days before five pushed 2 minutes apart', () => {
    let outlierPage: Page;
    const timelineShot = path.join(dir, 'timeline-outlier.png');

    /** A push of the same image and tag (so one lane) rejected at `ts`, on its own thread. */
    const push = (ts: string, n: number): string[] => [
      missingLayerLine(`${ts},000+0000`, `layer-${n}`, 'team-a/api', '1.0', { thread: `qtp1-${n}` }),
      rejectionLine(`${ts},004+0000`, 'team-a/api', '1.0', { thread: `qtp1-${n}` }),
    ];

    beforeAll(async () => {
      const logs = mkdtempSync(path.join(tmpdir(), 'nla-outlier-'));
      const lines = [push('2026-10-01 09:00:00', 0), ...[0, 2, 4, 6, 8].map((minute, i) => push(`2026-11-20 10:0${minute}:00`, i + 1))].flat();
      writeFileSync(path.join(logs, 'nexus.log'), `${lines.join('\n')}\n`);
      const outlierReport = path.join(dir, 'outlier.html');
      const run = runCli(['-q', '--report', outlierReport, logs]);
      expect([run.status, run.stderr]).toEqual([0, '']);
      outlierPage = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await outlierPage.goto(`file://${outlierReport}`);
      await outlierPage.locator('#timeline').screenshot({ path: timelineShot });
    }, 30_000);

    interface Spot {
      x: number;
      r: number;
    }

    /** Each dot's centre and radius and each gap marker's centre (page pixels, left to right), and the timeline's edges. */
    async function positions(): Promise<{ dots: Spot[]; gaps: number[]; box: { left: number; right: number } }> {
      const spots = async (selector: string): Promise<Spot[]> => {
        const boxes = await Promise.all((await outlierPage.locator(selector).all()).map((element) => element.boundingBox()));
        return boxes.map((b) => ({ x: (b?.x ?? NaN) + (b?.width ?? NaN) / 2, r: (b?.width ?? NaN) / 2 })).sort((a, b) => a.x - b.x);
      };
      const svg = await outlierPage.locator('#timeline').boundingBox();
      return { dots: await spots('#timeline circle.dot'), gaps: (await spots('#timeline rect.gap')).map((g) => g.x), box: { left: svg?.x ?? NaN, right: (svg?.x ?? NaN) + (svg?.width ?? NaN) } };
    }

    it('draws every dot inside the timeline, the outlier apart behind a gap marker', async () => {
      const { dots, gaps, box } = await positions();
      expect(dots).toHaveLength(6);
      for (const dot of dots) expect(dot.x - dot.r >= box.left && dot.x + dot.r <= box.right).toBe(true);
      const [outlier, firstOfCluster] = dots as [Spot, Spot];
      expect(gaps.filter((x) => x > outlier.x && x < firstOfCluster.x)).toHaveLength(1);
    });

    it('keeps the five close pushes readable: no two dots overlap, and they use most of the width', async () => {
      const { dots, box } = await positions();
      const cluster = dots.slice(1);
      for (let i = 1; i < cluster.length; i++) {
        const [a, b] = [cluster[i - 1], cluster[i]] as [Spot, Spot];
        expect(b.x - a.x).toBeGreaterThan(a.r + b.r);
      }
      const spread = (cluster[cluster.length - 1] as Spot).x - (cluster[0] as Spot).x;
      expect(spread).toBeGreaterThan((box.right - box.left) / 3);
      // The time labels under them do not overprint each other either.
      const labels = (await Promise.all((await outlierPage.locator('#timeline text.tick').all()).map((tick) => tick.boundingBox()))).map((b) => [b?.x ?? NaN, (b?.x ?? NaN) + (b?.width ?? NaN)] as const).sort((a, b) => a[0] - b[0]);
      expect(labels.length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < labels.length; i++) expect((labels[i] as readonly [number, number])[0]).toBeGreaterThanOrEqual((labels[i - 1] as readonly [number, number])[1]);
      expect(statSync(timelineShot).size).toBeGreaterThan(2_000); // the picture, for a person to look at
    });
  });
});
