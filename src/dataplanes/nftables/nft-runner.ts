import { spawn } from 'node:child_process';

/** Runs `nft` with a script on stdin; the command prefix lets tests run it inside a namespace. */
export interface NftRunner {
  run(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
}

export function nftRunner(command: readonly string[] = ['nft']): NftRunner {
  return {
    run(args, input) {
      return new Promise((resolve) => {
        const [file = 'nft', ...prefix] = command;
        const child = spawn(file, [...prefix, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        // nft missing or not executable: an answer like any failure, so the caller reports it.
        child.on('error', (error) => resolve({ code: 127, stdout: '', stderr: `Error: ${error.message}` }));
        child.on('close', (code) =>
          resolve({
            code: code ?? 1,
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
          }),
        );
        child.stdin.on('error', () => {});
        child.stdin.end(input ?? '');
      });
    },
  };
}

/** The script lines nft complained about (`/dev/stdin:12:3-9: Error: …`, or the file's path), 0-based. */
export function failedLines(stderr: string): number[] {
  return [...stderr.matchAll(/^\S+?:(\d+):\d+(?:-\d+)?: Error/gm)].map((match) => Number(match[1]) - 1);
}
