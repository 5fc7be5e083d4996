import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const bin = fileURLToPath(new URL('../../bin/kproxy.js', import.meta.url));

/** Runs the kproxy command line as a user would, and collects its output and exit code. */
export function runCli(args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  return runProcess(process.execPath, [bin, ...args], timeoutMs);
}

/** Runs a command to its end and collects its output and exit code. */
export function runProcess(command: string, args: readonly string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
