import type { RestoreText } from './serialize.js';

/**
 * Restore input as a sequence of chunks, so that it can be written to `iptables-restore` while
 * it is still being rendered. Each chunk is a run of whole lines that all belong to one Service
 * port (or all to kproxy's shared chains), which is what a failing line is blamed on.
 */
export interface RestoreChunk {
  /** Whole lines, each ending in `\n`. */
  readonly text: string;
  readonly lines: number;
  /** The Service port every line of the chunk belongs to; unset for shared chains. */
  readonly owner?: string;
  /** Instead of `owner`, when the lines belong to different Service ports: one entry per line. */
  readonly lineOwners?: readonly (string | undefined)[];
}

/** A chunk of `lines` (without their newlines); none when there are no lines. */
export function chunkOf(lines: readonly string[], owner?: string): RestoreChunk[] {
  return lines.length === 0 ? [] : [{ text: `${lines.join('\n')}\n`, lines: lines.length, owner }];
}

/** Splits restore text into chunks of consecutive lines with the same owner. */
export function chunksOfRestoreText(restore: RestoreText): RestoreChunk[] {
  if (restore.text === '') return [];
  const lines = restore.text.endsWith('\n')
    ? restore.text.slice(0, -1).split('\n')
    : restore.text.split('\n');
  const chunks: RestoreChunk[] = [];
  let start = 0;
  for (let index = 1; index <= lines.length; index++) {
    const owner = restore.lineOwners[start + 1];
    if (index < lines.length && restore.lineOwners[index + 1] === owner) continue;
    chunks.push(...chunkOf(lines.slice(start, index), owner));
    start = index;
  }
  return chunks;
}

/** All chunks as one text with an owner per line (for `kproxy rules`, tests and benchmarks). */
export function restoreTextOf(chunks: Iterable<RestoreChunk>): RestoreText {
  const texts: string[] = [];
  const lineOwners: (string | undefined)[] = [undefined];
  for (const chunk of chunks) {
    texts.push(chunk.text);
    for (let i = 0; i < chunk.lines; i++) lineOwners.push(chunk.lineOwners?.[i] ?? chunk.owner);
  }
  return { text: texts.join(''), lineOwners };
}

/** The chunks written so far, to find which chunk (and so which Service port) a 1-based line number is in. */
export class RestoreLedger {
  private readonly chunks: RestoreChunk[] = [];
  private readonly firstLines: number[] = [];
  private nextLine = 1;

  add(chunk: RestoreChunk): void {
    this.chunks.push(chunk);
    this.firstLines.push(this.nextLine);
    this.nextLine += chunk.lines;
  }

  /** The line's text and owner, or undefined past the lines written. */
  line(number: number): { text: string; owner?: string } | undefined {
    if (number < 1 || number >= this.nextLine) return undefined;
    let low = 0;
    let high = this.firstLines.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.firstLines[middle] as number) <= number) low = middle;
      else high = middle - 1;
    }
    const chunk = this.chunks[low] as RestoreChunk;
    const offset = number - (this.firstLines[low] as number);
    return { text: chunk.text.split('\n')[offset] ?? '', owner: chunk.lineOwners?.[offset] ?? chunk.owner };
  }
}
