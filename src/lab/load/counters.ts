import { KproxyError } from '../../errors.js';

/** Per-endpoint counters read from a proxy, keyed by endpoint (or pod) name. */
export type EndpointCounters = ReadonlyMap<string, number>;

/**
 * Reads per-endpoint counters from a URL: a JSON object `{ "endpoint": count, … }`, or Prometheus
 * text where each sample of `metric` carries the endpoint in its `endpoint` (or `pod`) label.
 */
export async function readCounters(url: string, metric: string): Promise<EndpointCounters> {
  let text: string;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (error) {
    throw new KproxyError(
      'KPROXY_E_USAGE',
      `could not read endpoint counters from ${url}: ${String(error)}`,
      {
        hint: 'give --counters-url the proxy metrics address, e.g. http://127.0.0.1:10249/metrics',
        cause: error,
      },
    );
  }
  return text.trimStart().startsWith('{')
    ? parseJsonCounters(text, url)
    : parsePrometheusCounters(text, metric);
}

export function parsePrometheusCounters(text: string, metric: string): EndpointCounters {
  const counts = new Map<string, number>();
  const sample = new RegExp(`^${metric}\\{([^}]*)\\}\\s+(\\S+)`);
  for (const line of text.split('\n')) {
    const match = sample.exec(line);
    if (!match) continue;
    const label = /(?:endpoint|pod)="([^"]*)"/.exec(match[1] ?? '');
    if (label?.[1] !== undefined) counts.set(label[1], (counts.get(label[1]) ?? 0) + Number(match[2]));
  }
  return counts;
}

function parseJsonCounters(text: string, url: string): EndpointCounters {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) {
    throw new KproxyError('KPROXY_E_USAGE', `${url}: counters are not a JSON object`);
  }
  return new Map(
    Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}

/** after − before per endpoint: what this run added. */
export function counterDelta(before: EndpointCounters, after: EndpointCounters): Map<string, number> {
  return new Map([...after].map(([name, count]) => [name, count - (before.get(name) ?? 0)]));
}
