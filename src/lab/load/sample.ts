/** What the load generator records of one request; everything else is computed from these. */
export interface RequestSample {
  /** Milliseconds from the start of the run to the start of this request. */
  readonly startMs: number;
  /** Time to establish the TCP connection (0 on a reused keep-alive connection). */
  readonly connectMs: number;
  /** From the request written to the first byte of the response. */
  readonly waitingMs: number;
  readonly totalMs: number;
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  readonly bodyBytes: number;
  /** All bytes read, headers included. */
  readonly totalBytes: number;
  /** The pod that answered, when the response named it. */
  readonly pod?: string;
  readonly serverSoftware?: string;
  /** Set when the request failed: ab's categories. */
  readonly failure?: 'connect' | 'receive' | 'exception';
}

export interface LoadRun {
  readonly url: URL;
  readonly concurrency: number;
  readonly keepAlive: boolean;
  readonly durationMs: number;
  readonly samples: readonly RequestSample[];
}
