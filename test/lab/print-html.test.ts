import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAbHtml } from '../../src/lab/load/print-html.js';
import { formatAbReport } from '../../src/lab/load/print-summary.js';
import type { LoadRun, RequestSample } from '../../src/lab/load/sample.js';
import { summarizeLoad } from '../../src/lab/load/summarize.js';

function sample(pod: string | undefined, extra: Partial<RequestSample> = {}): RequestSample {
  return {
    startMs: 0,
    connectMs: 1,
    waitingMs: 2,
    totalMs: 4,
    status: 200,
    bodyBytes: 10,
    totalBytes: 110,
    pod,
    serverSoftware: 'web<1>',
    ...extra,
  };
}

function runOf(samples: RequestSample[], url = 'http://127.0.0.1:8080/'): LoadRun {
  return { url: new URL(url), concurrency: 2, keepAlive: false, durationMs: 1000, samples };
}

test('ab -w: failures without Receive (as ab’s HTML), Non-2xx, escaped values, weighted spread rows', () => {
  const samples = [
    sample('a'),
    sample('a'),
    sample('b', { status: 503 }),
    sample(undefined, { failure: 'receive', status: 0 }),
    sample(undefined, { failure: 'connect', status: 0 }),
  ];
  const summary = summarizeLoad(runOf(samples), {
    weights: new Map([
      ['a', 2],
      ['b', 1],
    ]),
  });
  const html = formatAbHtml(summary, { table: 'border=1', tr: '', td: '' });
  assert.match(html, /^<table border=1>\n/);
  assert.match(html, /<td colspan=2 >web&lt;1&gt;<\/td>/);
  assert.match(html, /<td colspan=4 {2}> {3}\(Connect: 1, Length: 0, Exceptions: 0\)<\/td>/);
  assert.match(html, /<th colspan=2 >Non-2xx responses:<\/th><td colspan=2 >1<\/td>/);
  assert.match(html, /<th >vs weight<\/th>/);
  assert.match(html, /<tr ><td >a<\/td><td >2<\/td><td >66\.7%<\/td><td >\+0\.0%<\/td><\/tr>/);
  assert.match(html, /\n<\/table>$/);
});

test('ab -w: Processing is Total minus Connect, in whole ms, as ab computes it for HTML', () => {
  const summary = summarizeLoad(runOf([sample('a', { connectMs: 1.4, totalMs: 5.6 }), sample('a')]));
  const html = formatAbHtml(summary);
  const row = (name: string) =>
    [
      ...(new RegExp(`<th bgcolor=white>${name}:</th>(.*)</tr>`).exec(html)?.[1] ?? '').matchAll(
        />\s*(\d+)</g,
      ),
    ].map((match) => Number(match[1]));
  assert.deepEqual(row('Connect'), [1, 1, 1]);
  assert.deepEqual(row('Total'), [4, 5, 6]);
  assert.deepEqual(row('Processing'), [3, 4, 5]);
});

test('https: ab’s TLS lines after Server Port, and 443 when the URL names no port', () => {
  const run: LoadRun = {
    ...runOf([sample('a'), sample('a')], 'https://pods.example/'),
    tls: {
      protocol: 'TLSv1.2,ECDHE-RSA-AES128-GCM-SHA256,2048,128',
      serverTempKey: 'ECDH prime256v1 256 bits',
      serverName: 'pods.example',
    },
  };
  const lines = formatAbReport(summarizeLoad(run)).split('\n');
  assert.deepEqual(lines.slice(2, 6), [
    'Server Port:            443',
    'SSL/TLS Protocol:       TLSv1.2,ECDHE-RSA-AES128-GCM-SHA256,2048,128',
    'Server Temp Key:        ECDH prime256v1 256 bits',
    'TLS Server Name:        pods.example',
  ]);
});
