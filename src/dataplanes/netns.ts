import { spawn } from 'node:child_process';

/**
 * Runs kernel tools (iptables-restore, nft, ip …) on the host or inside a named network namespace
 * (`ip netns exec NAME …`), so that data planes and their tests program a private namespace the
 * same way they program a node.
 */

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCommandOptions {
  /** Network namespace to run in; the current one when unset. */
  readonly netns?: string;
  /** Text written to the command's stdin. */
  readonly input?: string;
}

/** The argv that runs `argv` in `netns` (or `argv` itself). */
export function inNetns(argv: readonly string[], netns: string | undefined): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : [...argv];
}

/** Runs a command to completion; a command that cannot start resolves with code 127 and the reason in stderr. */
export function runCommand(argv: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const [command = '', ...args] = inNetns(argv, options.netns);
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => resolve({ code: 127, stdout: '', stderr: String(error) }));
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(stdout).toString(),
        stderr: Buffer.concat(stderr).toString(),
      }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** The stdin of a command that is already running. */
export interface CommandInput {
  /** Writes `text`; resolves when the command can take more, with false once it stopped reading (exited). */
  write(text: string): Promise<boolean>;
}

/**
 * Runs a command while `feed` produces its stdin, so producing the input overlaps with the command
 * reading it. Stdin is closed when `feed` settles; if `feed` throws, the command is killed first
 * (it never sees the end of its input) and the error is rethrown.
 */
export async function runCommandFed(
  argv: readonly string[],
  options: { readonly netns?: string; readonly feed: (input: CommandInput) => Promise<void> },
): Promise<CommandResult> {
  const [command = '', ...args] = inNetns(argv, options.netns);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let stopped = false;
  const done = new Promise<CommandResult>((resolve) => {
    child.on('error', (error) => {
      stopped = true;
      resolve({ code: 127, stdout: '', stderr: String(error) });
    });
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(stdout).toString(),
        stderr: Buffer.concat(stderr).toString(),
      }),
    );
  });
  const { stdin } = child;
  stdin.on('error', () => {
    stopped = true;
  });
  stdin.on('close', () => {
    stopped = true;
  });
  const input: CommandInput = {
    async write(text) {
      if (stopped) return false;
      if (stdin.write(text)) return true;
      await new Promise<void>((resolve) => {
        const settle = () => {
          stdin.off('drain', settle);
          stdin.off('close', settle);
          resolve();
        };
        stdin.on('drain', settle);
        stdin.on('close', settle);
      });
      return !stopped;
    },
  };
  try {
    await options.feed(input);
  } catch (error) {
    child.kill('SIGKILL');
    await done;
    throw error;
  }
  stdin.end();
  return done;
}

/** Runs a command and fails with its stderr when it exits non-zero. */
export async function runChecked(argv: readonly string[], options: RunCommandOptions = {}): Promise<string> {
  const result = await runCommand(argv, options);
  if (result.code !== 0) {
    throw new Error(
      `${inNetns(argv, options.netns).join(' ')} exited ${result.code}: ${result.stderr.trim()}`,
    );
  }
  return result.stdout;
}

/** Creates a network namespace with its loopback up. */
export async function createNetns(name: string): Promise<void> {
  await runChecked(['ip', 'netns', 'add', name]);
  await runChecked(['ip', 'link', 'set', 'lo', 'up'], { netns: name });
}

/** Deletes a network namespace if it exists. */
export async function deleteNetns(name: string): Promise<void> {
  await runCommand(['ip', 'netns', 'delete', name]);
}
