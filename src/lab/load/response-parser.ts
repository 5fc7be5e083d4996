/**
 * An incremental HTTP/1.x response parser, just enough for a load generator: the status, the
 * headers, and the body length (by Content-Length, or up to the end of the connection).
 */
export interface ParsedHead {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly headBytes: number;
  /** Undefined when the body runs until the server closes the connection. */
  readonly contentLength?: number;
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

  /** `headOnly`: the request was HEAD, so the response ends with its head whatever it announces. */
  reset(headOnly: boolean): void {
    this.headOnly = headOnly;
    this.chunks = [];
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
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const joined = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.buffered);
    const end = joined.indexOf(HEAD_END);
    if (end < 0) {
      this.chunks = [joined];
      return false;
    }
    this.head = parseHead(joined.subarray(0, end).toString('latin1'), end + HEAD_END.length);
    this.chunks = [];
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
    if (this.bodyStart.length < 256 && chunk.length > 0) {
      this.bodyStart += chunk.subarray(0, 256 - this.bodyStart.length).toString('latin1');
    }
    this.bodyBytes += chunk.length;
  }
}

function parseHead(text: string, headBytes: number): ParsedHead {
  const lines = text.split('\r\n');
  const status = Number.parseInt(lines[0]?.split(' ')[1] ?? '', 10);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const length = headers.get('content-length');
  return {
    status: Number.isNaN(status) ? 0 : status,
    headers,
    headBytes,
    contentLength: length === undefined ? undefined : Number.parseInt(length, 10),
  };
}
