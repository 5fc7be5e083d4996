import type { TlsInfo } from './tls-client.js';

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
  /** The pod that answered, when the response named it (by header or body pattern). */
  readonly pod?: string;
  readonly serverSoftware?: string;
  /** Sent over a connection that an earlier request had already used (ab's "Keep-Alive requests"). */
  readonly reusedConnection?: boolean;
  /** The local address the request left from, when the run spread clients over several. */
  readonly clientAddress?: string;
  /** Set when the request failed: ab's categories. */
  readonly failure?: 'connect' | 'receive' | 'exception';
}

export interface LoadRun {
  readonly url: URL;
  readonly concurrency: number;
  readonly keepAlive: boolean;
  readonly durationMs: number;
  readonly samples: readonly RequestSample[];
  /** Bytes of request body sent (ab's "Total body sent"), 0 without -p/-u. */
  readonly bodyBytesSent?: number;
  /** Whether the run accepted responses of any length (ab -l). */
  readonly variableLength?: boolean;
  /** What the first TLS handshake negotiated, on https runs. */
  readonly tls?: TlsInfo;
  /** The socket receive error that stopped the run (ab stops on one unless -r). */
  readonly receiveError?: ReceiveError;
}

/** A socket error while reading a response, as ab reports it before it exits. */
export interface ReceiveError {
  /** e.g. ECONNRESET. */
  readonly code: string;
  /** The system's error number, e.g. 104. */
  readonly errno: number;
  /** The system's message, e.g. `Connection reset by peer`. */
  readonly message: string;
  /** Requests completed before it. */
  readonly completed: number;
}

/** How a response names the pod that sent it. */
export interface Attribution {
  /** A response header carrying the pod name (lower-case), e.g. `x-pod-name`. */
  readonly header?: string;
  /** A regular expression over the first 256 body bytes; its first group (or whole match) is the pod. */
  readonly bodyPattern?: string;
}
