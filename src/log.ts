/**
 * Logs in kube-proxy's klog text format — `I0314 13:48:24.900100 1 proxier.go:242] "msg" k=v` —
 * so that people and tools that read kube-proxy's logs read ours. `--v N` sets the verbosity.
 */

let verbosity = 0;

export function setVerbosity(level: number): void {
  verbosity = level;
}

export type LogValue = string | number | boolean | undefined;

function klogLine(
  severity: 'I' | 'W' | 'E',
  source: string,
  message: string,
  values: Record<string, LogValue>,
): string {
  const now = new Date();
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const stamp = `${pad(now.getMonth() + 1)}${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}.${pad(now.getMilliseconds() * 1000, 6)}`;
  const pairs = Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  return [`${severity}${stamp}`, String(process.pid), `${source}]`, JSON.stringify(message), ...pairs].join(
    ' ',
  );
}

export const log = {
  /** Info at verbosity `level` (shown when `--v` ≥ level). */
  info(source: string, message: string, values: Record<string, LogValue> = {}, level = 0): void {
    if (level <= verbosity) process.stderr.write(`${klogLine('I', source, message, values)}\n`);
  },
  warning(source: string, message: string, values: Record<string, LogValue> = {}): void {
    process.stderr.write(`${klogLine('W', source, message, values)}\n`);
  },
  error(source: string, message: string, values: Record<string, LogValue> = {}): void {
    process.stderr.write(`${klogLine('E', source, message, values)}\n`);
  },
};
