/** What ab lets a user say about the request: -m, -i, -p/-u with -T, -H, -C, -A, -P, -X. */
export interface RequestShape {
  /** HTTP method; GET, or POST with a body, PUT with -u, HEAD with -i. */
  readonly method?: string;
  /** Extra headers (ab -H), replacing a default of the same name. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Buffer;
  /** Content-type of the body (ab -T). */
  readonly contentType?: string;
  readonly keepAlive: boolean;
  /** Through a proxy (ab -X): the request line carries the absolute URL. */
  readonly absoluteUri?: boolean;
}

/** The URL's host as a name or bare address: `[::1]` → `::1` (what sockets and ab's report take). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

export interface BuiltRequest {
  readonly bytes: Buffer;
  readonly bodyLength: number;
}

/**
 * The bytes of one HTTP/1.0 request, as ab writes it: the request line, Connection: Keep-Alive
 * with -k, the user's headers, then Host, User-Agent and Accept unless the user gave them, then
 * the body's length and type.
 */
export function buildRequest(url: URL, shape: RequestShape): BuiltRequest {
  const method = shape.method ?? (shape.body ? 'POST' : 'GET');
  const defaults: [string, string][] = [
    ['Host', url.host],
    ['User-Agent', 'kproxy-bench'],
    ['Accept', '*/*'],
  ];
  const extra = shape.headers ?? [];
  const overridden = new Set(extra.map(([name]) => name.toLowerCase()));
  const target = shape.absoluteUri ? url.href : `${url.pathname}${url.search}`;
  const lines = [`${method} ${target} HTTP/1.0`];
  if (shape.keepAlive && !overridden.has('connection')) lines.push('Connection: Keep-Alive');
  for (const [name, value] of extra) lines.push(`${name}: ${value}`);
  for (const [name, value] of defaults) {
    if (!overridden.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
  }
  const body = shape.body ?? Buffer.alloc(0);
  if (shape.body) {
    lines.push(`Content-length: ${body.length}`);
    lines.push(`Content-type: ${shape.contentType ?? 'text/plain'}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return { bytes: body.length > 0 ? Buffer.concat([head, body]) : head, bodyLength: body.length };
}
