import { spawnSync } from 'node:child_process';

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly seconds: number;
  /** Send `Connection: close`: one TCP connection per request. */
  readonly newConnections: boolean;
  /** Command prefix, e.g. `ip netns exec NS`. */
  readonly exec?: readonly string[];
}

/** Runs wrk once and reads its req/s, p99 latency and error count. */
export function runWrk(options: WrkOptions): WrkResult {
  const args = [
    ...(options.exec ?? []),
    'wrk',
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    ...(options.newConnections ? ['-H', 'Connection: close'] : []),
    options.url,
  ];
  const [command = 'wrk', ...rest] = args;
  const result = spawnSync(command, rest, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  return parseWrkOutput(result.stdout);
}

export function parseWrkOutput(output: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output)?.[1];
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(output);
  const errorCounts = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1];
  const unit = p99?.[2] === 'us' ? 0.001 : p99?.[2] === 's' ? 1000 : 1;
  const errors =
    (errorCounts ? errorCounts.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + Number(non2xx ?? 0);
  return { requestsPerSecond: Number(rps ?? 0), p99Ms: Number(p99?.[1] ?? 0) * unit, errors };
}
