/**
 * A one-line progress counter on stderr, only when stdout is a terminal (piped or redirected
 * output stays exactly ab's), redrawn at most ten times a second.
 */
export function terminalProgress(
  total: number,
  enabled: boolean,
): { update(done: number): void; end(): void } {
  if (!enabled || !process.stdout.isTTY) return { update: () => {}, end: () => {} };
  let last = 0;
  const draw = (done: number) =>
    process.stderr.write(
      `\rCompleted ${done} of ${total} requests (${Math.floor((done / total) * 100)}%)   `,
    );
  return {
    update(done) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(done);
    },
    end() {
      process.stderr.write('\r\x1b[K');
    },
  };
}
