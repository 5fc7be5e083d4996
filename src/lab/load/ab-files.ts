import type { RequestSample } from './sample.js';

/** ab -e: for each percent 0…99, the time in ms within which that share of requests was served. */
export function percentCsv(totals: readonly number[]): string {
  const sorted = [...totals].sort((a, b) => a - b);
  const lines = ['Percentage served,Time in ms'];
  for (let percent = 0; percent < 100; percent++) {
    const index = Math.min(sorted.length - 1, Math.floor((percent * sorted.length) / 100));
    lines.push(`${percent},${(sorted[index] ?? 0).toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * ab -g: one line per request, tab-separated: when it started (as ctime() prints it, then in
 * seconds since the epoch), connect, processing and total time and the wait for the first byte,
 * in whole milliseconds. `startedAt` is the run's start, ms since the epoch.
 */
export function gnuplotTsv(samples: readonly RequestSample[], startedAt: number): string {
  const lines = ['starttime\tseconds\tctime\tdtime\tttime\twait'];
  for (const sample of samples) {
    const start = new Date(startedAt + sample.startMs);
    const ms = (value: number) => String(Math.round(value));
    lines.push(
      [
        ctime(start),
        Math.floor(start.getTime() / 1000),
        ms(sample.connectMs),
        ms(sample.totalMs - sample.connectMs),
        ms(sample.totalMs),
        ms(sample.waitingMs),
      ].join('\t'),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `Sun Nov 29 05:21:00 2026`, as C's ctime() writes a local time. */
function ctime(date: Date): string {
  const [weekday, month, day, year, time] = date.toString().split(' ');
  return `${weekday} ${month} ${(day ?? '').replace(/^0/, ' ')} ${time} ${year}`;
}
