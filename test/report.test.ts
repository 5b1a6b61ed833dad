// report.html in a real browser: Debian's chromium driven by playwright-core (which downloads no
// browser of its own). It opens the report of a short run over every target, finds the compare
// table, a ladder and the coverage heatmaps, checks that the page fetched nothing, and saves a screenshot under results/.
// Without /usr/bin/chromium the test is skipped, unless CI is set: there it must run.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { RunSummary } from '../harness/report/summary.js';
import { TARGETS } from '../targets/index.js';

const MAIN = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));
/** The repository's results/ (this file runs from dist/test/). */
const RESULTS = fileURLToPath(new URL('../../results/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const skip = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is missing (apt-get install chromium); under CI=true this test runs` : false;

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-report-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('report.html in chromium: the compare table, a ladder, coverage heatmaps, no network, a screenshot', { skip, timeout: 60_000 }, async () => {
  const run = await cli(['run', '--seed', '1', '--execs', '800', '--workers', '0', '--corpus', path.join(tmp, 'corpus'), '--results', tmp, '--run-id', 'report']);
  assert.notEqual(run.code, 2, run.stderr);
  const report = path.join(tmp, 'report', 'report.html');

  const context = await chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = await context.newPage();
    const fetched: string[] = [];
    page.on('request', (r) => fetched.push(r.url()));
    await page.goto(pathToFileURL(report).href);

    const table = page.locator('#compare-table');
    await table.waitFor();
    assert.deepEqual((await table.locator('thead th').allInnerTexts()).slice(2).map((t) => t.split('\n')[0]), TARGETS.map((t) => t.name));
    const first = await table.locator('tbody tr').first().locator('td').allInnerTexts();
    assert.equal(first[0], 'P1');

    // A finding's cell links to its details, which open with the replay command and the ladder.
    const link = table.locator('a').first();
    const id = (await link.getAttribute('href'))!.slice(1);
    await link.click();
    const details = page.locator(`details[id="${id}"]`);
    assert.equal(await details.getAttribute('open'), '');
    const ladder = details.locator('table.ladder');
    assert.ok(await ladder.isVisible());
    // Drawn as columns: a header cell per CPU, and the finding in a cell of its own.
    assert.deepEqual((await ladder.locator('thead th').allInnerTexts()).slice(0, 2), ['CPU0', 'CPU1']);
    assert.match(await ladder.locator('td.finding').first().innerText(), /^\s*\^\^\^ /);
    assert.match(await details.locator('code.replay').innerText(), /^mdevfuzz replay .+ --ladder$/);

    // Coverage of lifecycle paths: per target a bar chart and a heatmap, drawn inline.
    const coverage = page.locator('#coverage');
    assert.equal(await coverage.locator('h2').innerText(), 'Coverage of lifecycle paths');
    assert.equal(await coverage.locator('.coverage-target').count(), TARGETS.length);
    const heatmap = coverage.locator('svg.heatmap').first();
    assert.ok(await heatmap.isVisible());
    assert.ok((await heatmap.locator('rect.cell').count()) > 1);
    assert.equal(await coverage.locator('svg.function-chart').count(), TARGETS.length);
    // The transitions table: a row per object kind and the total, whose reached matches summary.json.
    const summary = JSON.parse(readFileSync(path.join(tmp, 'report', 'summary.json'), 'utf8')) as RunSummary;
    const t = summary.results[0]!.coverage!.transitions;
    const rows = coverage.locator('table.transitions').first().locator('tbody tr');
    assert.equal(await rows.count(), t.kinds.length + 1);
    assert.deepEqual((await rows.last().locator('td').allInnerTexts()).slice(0, 3), ['all', String(t.declared), String(t.reached)]);

    assert.ok(fetched.every((u) => u.startsWith('file:') || u.startsWith('data:')), `fetched ${fetched.join(', ')}`);
    mkdirSync(RESULTS, { recursive: true });
    const shot = path.join(RESULTS, 'report-screenshot.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000);
  } finally {
    await context.close();
  }
});
