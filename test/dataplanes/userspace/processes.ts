import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Starts a fixture script (optionally under a command prefix such as prlimit) and reads its stdout lines. */
export function startFixture(
  script: string,
  args: readonly string[],
  prefix: readonly string[] = [],
): FixtureProcess {
  const path = fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url));
  const [command = process.execPath, ...rest] = [
    ...prefix,
    process.execPath,
    '--import',
    'tsx',
    path,
    ...args,
  ];
  return new FixtureProcess(spawn(command, rest, { stdio: ['pipe', 'pipe', 'inherit'] }));
}

export class FixtureProcess {
  private buffered = '';
  private readonly waiters: { pattern: RegExp; resolve: (match: RegExpExecArray) => void }[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.buffered += chunk;
      this.deliver();
    });
  }

  /** Resolves with the first line matching `pattern` not yet consumed. */
  line(pattern: RegExp, limitMs = 60_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern}`)), limitMs);
      this.waiters.push({
        pattern,
        resolve: (match) => {
          clearTimeout(timer);
          resolve(match);
        },
      });
      this.deliver();
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Ends stdin (the fixtures' signal to clean up and exit) and waits for the exit. */
  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin?.end();
    });
  }

  private deliver(): void {
    const lines = this.buffered.split('\n');
    for (const [index, waiter] of [...this.waiters.entries()].reverse()) {
      for (const [lineIndex, line] of lines.slice(0, -1).entries()) {
        const match = waiter.pattern.exec(line);
        if (!match) continue;
        this.waiters.splice(index, 1);
        lines.splice(lineIndex, 1);
        waiter.resolve(match);
        break;
      }
    }
    this.buffered = lines.join('\n');
  }
}
