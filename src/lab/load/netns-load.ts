import { spawn } from 'node:child_process';
import { KproxyError } from '../../errors.js';
import type { LoadOptions } from './load-generator.js';
import type { LoadRun, RequestSample } from './sample.js';

/** LoadOptions as JSON: the URL as text, the body in base64, request paths listed instead of computed. */
export interface ChildLoadOptions
  extends Omit<LoadOptions, 'url' | 'body' | 'pathFor' | 'onProgress' | 'sharedCounter'> {
  readonly url: string;
  readonly bodyBase64?: string;
  readonly paths?: readonly string[];
}

interface ChildRun {
  readonly durationMs: number;
  readonly samples: RequestSample[];
  readonly bodyBytesSent?: number;
}

/**
 * Runs the load from inside network namespace `netns` (where a kernel lab's clients live): the
 * generator runs as a child process there, and its samples come back as JSON.
 */
export function runLoadInNetns(netns: string, options: LoadOptions): Promise<LoadRun> {
  const { url, body, pathFor, onProgress, sharedCounter, ...rest } = options;
  const childOptions: ChildLoadOptions = {
    ...rest,
    url: url.href,
    bodyBase64: body?.toString('base64'),
    paths: pathFor ? Array.from({ length: options.requests }, (_, i) => pathFor(i)) : undefined,
  };
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, ...childArgv()], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    let newline = stderr.indexOf('\n');
    while (newline >= 0) {
      const line = stderr.slice(0, newline);
      stderr = stderr.slice(newline + 1);
      const progress = /^progress (\d+)$/.exec(line);
      if (progress) onProgress?.(Number(progress[1]));
      else if (line.trim()) process.stderr.write(`${line}\n`);
      newline = stderr.indexOf('\n');
    }
  });
  child.stdin.end(JSON.stringify(childOptions));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (stderr.trim()) process.stderr.write(`${stderr}\n`);
      if (code !== 0) {
        const reason = `the load generator in network namespace ${netns} exited ${code}`;
        reject(new KproxyError('KPROXY_E_LAB', reason, { hint: 'its error output is above' }));
        return;
      }
      const result = JSON.parse(Buffer.concat(stdout).toString()) as ChildRun;
      resolve({
        url,
        concurrency: options.concurrency,
        keepAlive: options.keepAlive,
        durationMs: result.durationMs,
        samples: result.samples,
        bodyBytesSent: result.bodyBytesSent,
        variableLength: options.variableLength,
      });
    });
  });
}

/** How to start load-child: the .js file when built, the .ts file through tsx otherwise. */
function childArgv(): string[] {
  const here = new URL(import.meta.url);
  here.search = '';
  if (!here.pathname.endsWith('.ts')) return [new URL('./load-child.js', here).pathname];
  return ['--import', import.meta.resolve('tsx'), new URL('./load-child.ts', here).pathname];
}
