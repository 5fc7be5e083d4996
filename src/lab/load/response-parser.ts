/**
 * An incremental HTTP/1.x response parser, just enough for a load generator: the status, the
 * headers it needs, and the body length (by Content-Length, or up to the end of the connection).
 * It runs once per request, so it reads headers where they are instead of building a map of all.
 */
export interface ParsedHead {
  readonly status: number;
  readonly headBytes: number;
  /** Undefined when the body runs until the server closes the connection. */
  readonly contentLength?: number;
  /** The Connection header, lower-case. */
  readonly connection?: string;
  readonly server?: string;
  /** The value of header `name` (lower-case), or undefined. */
  header(name: string): string | undefined;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Parses one response at a time; `reset()` readies it for the next (one parser per slot). */
export class ResponseParser {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private headOnly = false;
  head?: ParsedHead;
  bodyBytes = 0;
  /** The first bytes of the body, kept for attribution by a body pattern. */
  bodyStart = '';

  /** `keepBodyStart`: keep the first body bytes (attribution by a body pattern needs them). */
  constructor(private readonly keepBodyStart = true) {}

  /** `headOnly`: the request was HEAD, so the response ends with its head whatever it announces. */
  reset(headOnly: boolean): void {
    this.headOnly = headOnly;
    if (this.buffered > 0) this.chunks = [];
    this.buffered = 0;
    this.head = undefined;
    this.bodyBytes = 0;
    this.bodyStart = '';
  }

  /** Feeds bytes; returns true once a response with a known length is complete. */
  push(bytes: Uint8Array): boolean {
    const chunk = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.head) {
      this.addBody(chunk);
      return this.isComplete();
    }
    const joined = this.buffered === 0 ? chunk : Buffer.concat([...this.chunks, chunk]);
    const end = joined.indexOf(HEAD_END);
    if (end < 0) {
      this.chunks = [joined];
      this.buffered = joined.length;
      return false;
    }
    this.head = new Head(joined.toString('latin1', 0, end), end + HEAD_END.length);
    this.buffered = 0;
    this.addBody(joined.subarray(end + HEAD_END.length));
    return this.isComplete();
  }

  isComplete(): boolean {
    const head = this.head;
    if (!head) return false;
    if (this.headOnly || head.status === 204 || head.status === 304) return true;
    return head.contentLength !== undefined && this.bodyBytes >= head.contentLength;
  }

  private addBody(chunk: Buffer): void {
    if (this.keepBodyStart && this.bodyStart.length < 256 && chunk.length > 0) {
      this.bodyStart += chunk.toString('latin1', 0, Math.min(chunk.length, 256 - this.bodyStart.length));
    }
    this.bodyBytes += chunk.length;
  }
}

class Head implements ParsedHead {
  readonly status: number;
  readonly contentLength?: number;
  readonly connection?: string;
  readonly server?: string;
  /** The head with its names lower-cased, to find them; values are read from `text`. */
  private readonly lower: string;

  constructor(
    private readonly text: string,
    readonly headBytes: number,
  ) {
    this.lower = text.toLowerCase();
    const space = text.indexOf(' ');
    const status = space < 0 ? Number.NaN : Number.parseInt(text.slice(space + 1, space + 4), 10);
    this.status = Number.isNaN(status) ? 0 : status;
    const length = this.header('content-length');
    this.contentLength = length === undefined ? undefined : Number.parseInt(length, 10);
    this.connection = this.header('connection')?.toLowerCase();
    this.server = this.header('server');
  }

  header(name: string): string | undefined {
    const at = this.lower.indexOf(`\n${name}:`);
    if (at < 0) return undefined;
    const start = at + name.length + 2;
    const end = this.text.indexOf('\r', start);
    return this.text.slice(start, end < 0 ? undefined : end).trim();
  }
}
