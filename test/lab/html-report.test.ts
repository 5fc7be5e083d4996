import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { UserspaceLabBackend } from '../../src/lab/backends/userspace-lab-backend.js';
import { parseLabModes } from '../../src/lab/lab-mode.js';
import type { LabReport } from '../../src/lab/lab-result.js';
import { renderLabHtml } from '../../src/lab/report/lab-html.js';
import { runLab } from '../../src/lab/run-lab.js';
import { scenarioNamed } from '../../src/lab/scenarios.js';

let dir = '';
let browser: BrowserContext | undefined;
let report: LabReport;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kproxy-lab-html-'));
  report = await runLab({
    modes: parseLabModes('iptables,ipvs:rr,ipvs:sh'),
    scenarios: [scenarioNamed('new-connections'), scenarioNamed('keep-alive'), scenarioNamed('long-lived')],
    backend: () => new UserspaceLabBackend(),
    pods: 3,
    requests: 90,
    concurrency: 6,
  });
  // A fresh profile directory each run, so nothing from an earlier run leaks in.
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the HTML report renders in Chromium with its charts, and their numbers match the JSON', async () => {
  const file = join(dir, 'report.html');
  writeFileSync(file, renderLabHtml(report));
  assert.ok(browser);
  const page = await browser.newPage();
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(pathToFileURL(file).href);

  assert.equal(await page.title(), 'kproxy lab report');
  assert.deepEqual(requested, [pathToFileURL(file).href], 'the report loads nothing but itself');
  const embedded = JSON.parse((await page.textContent('#lab-data')) ?? '{}') as LabReport;
  assert.deepEqual(embedded, report);

  for (const scenario of report.scenarios) {
    const section = page.locator(`section[data-scenario="${scenario.scenario}"]`);
    assert.equal(await section.locator('svg[data-chart="per-pod"]').count(), 1);
    assert.equal(
      await section.locator('svg[data-chart="latency-cdf"] path.series').count(),
      scenario.modes.length,
    );
    assert.equal(await section.locator('svg[data-chart="arrivals"]').count(), scenario.modes.length);
    const openCharts = section.locator('svg[data-chart="open-connections"]');
    assert.equal(await openCharts.count(), scenario.holdsConnections ? scenario.modes.length : 0);
    const arrivalTotals = await section
      .locator('svg[data-chart="arrivals"]')
      .evaluateAll((charts) =>
        charts.map((chart) =>
          [...chart.querySelectorAll('path.series')]
            .filter((path) => path.getAttribute('data-series') !== 'failed')
            .map((path) =>
              (JSON.parse(path.getAttribute('data-points') ?? '[]') as [number, number][]).reduce(
                (sum, [, n]) => sum + n,
                0,
              ),
            ),
        ),
      );
    assert.deepEqual(
      arrivalTotals,
      scenario.modes.map((mode) => mode.pods.map((pod) => pod.requests)),
      'the requests over time add up to each pod’s count',
    );
    const bars = await section.locator('rect.bar').evaluateAll((rects) =>
      rects.map((rect) => ({
        mode: rect.getAttribute('data-mode'),
        pod: rect.getAttribute('data-pod'),
        value: Number(rect.getAttribute('data-value')),
        height: (rect as SVGRectElement).getBBox().height,
        label: rect.nextElementSibling?.textContent,
      })),
    );
    const expected = scenario.modes.flatMap((mode) =>
      mode.pods.map((pod) => ({ mode: mode.mode, pod: pod.pod, value: pod.requests })),
    );
    assert.deepEqual(
      bars.map(({ mode, pod, value }) => ({ mode, pod, value })),
      expected,
    );
    const tallest = bars.reduce((max, bar) => (bar.value > max.value ? bar : max));
    for (const bar of bars) {
      assert.equal(bar.label, String(bar.value), 'each bar is labelled with its count');
      assert.ok(
        Math.abs(bar.height - (bar.value / tallest.value) * tallest.height) < 0.2,
        'bar height ∝ count',
      );
    }
    const cdfEnds = await section
      .locator('svg[data-chart="latency-cdf"] path.series')
      .evaluateAll((paths) => paths.map((path) => JSON.parse(path.getAttribute('data-points') ?? '[]')));
    assert.deepEqual(
      cdfEnds,
      scenario.modes.map((mode) => mode.latencyCdf),
    );
    const rows = await section.locator('table.comparison tbody tr').count();
    assert.equal(rows, scenario.modes.length);
  }
  await page.close();
});
