/**
 * TCP connections on Node's own stream handles (libuv's `uv_tcp_t`, which `net.Socket` wraps),
 * without the `net.Socket` around them. A relay only moves bytes between two descriptors; the
 * stream machinery on top (a Duplex per socket, its buffering, events and ticks per chunk) held
 * the userspace data plane at 0.80× HAProxy's kept-alive rate and 0.49× its new connections, and
 * 8.8 KiB per connection; without it, 0.91–0.93×, 0.63–0.65× and 6.0 KiB (docs/BENCHMARKS.md).
 * This is the one module that touches those handles; everything else sees `TcpConnection`.
 *
 * The handles come from `process.binding('tcp_wrap' | 'stream_wrap')`, which Node keeps for
 * exactly this kind of user (its allow-list) but does not document. A write either completes at
 * once or keeps its buffer until libuv is done with it.
 *
 * Allocation per read is what this module keeps low. Every connection reads into one shared
 * buffer and the bytes are copied into a caller-owned chunk (small chunks come from Buffer's pool),
 * instead of libuv getting a fresh 64 KiB allocation and V8 a new ArrayBuffer for every read; a
 * write request that completed at once is used again. A closed handle drops its read callback:
 * V8's young-generation collector keeps closed handles alive until the next full collection, and
 * through the callback they kept every object of their relay, which then survived and was
 * promoted (docs/BENCHMARKS.md has the collector's numbers).
 */
import type { Server } from 'node:net';
import { isIPv6 } from 'node:net';
import { getSystemErrorName } from 'node:util';

/** The libuv handle's methods this module calls (a negative return is an errno, as libuv's). */
interface TcpHandle {
  onread: () => void;
  readStart(): number;
  useUserBuffer(buffer: Uint8Array): void;
  readStop(): number;
  writeBuffer(request: object, data: Uint8Array): number;
  shutdown(request: object): number;
  reset(): number;
  close(): void;
  setNoDelay(on: boolean): number;
  getpeername(out: { address?: string; port?: number }): number;
  connect(request: object, host: string, port: number): number;
  connect6(request: object, host: string, port: number): number;
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
}

interface RequestConstructor {
  new (): { handle?: TcpHandle; oncomplete?: (status: number) => void; buffer?: Uint8Array };
}

interface Bindings {
  readonly TCP: new (type: number) => TcpHandle;
  readonly TCPConnectWrap: RequestConstructor;
  readonly socketType: number;
  readonly WriteWrap: RequestConstructor;
  readonly ShutdownWrap: RequestConstructor;
  /** Shared with C++: the last read's length or error, and whether the last write went async. */
  readonly state: Int32Array;
  readonly readResult: number;
  readonly lastWriteWasAsync: number;
}

const bindings = loadBindings();

/** What a closed handle is left with as its read callback (see the top of this file). */
const ignoreRead = () => {};
/**
 * Every read lands here first and is copied out before the next can happen: reads run one at a
 * time on a thread, and each worker thread loads its own copy of this module.
 */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

function loadBindings(): Bindings {
  const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
  const tcp = binding('tcp_wrap') as {
    TCP: Bindings['TCP'];
    TCPConnectWrap: RequestConstructor;
    constants: { SOCKET: number };
  };
  const stream = binding('stream_wrap') as Record<string, unknown>;
  return {
    TCP: tcp.TCP,
    TCPConnectWrap: tcp.TCPConnectWrap,
    socketType: tcp.constants.SOCKET,
    WriteWrap: stream.WriteWrap as RequestConstructor,
    ShutdownWrap: stream.ShutdownWrap as RequestConstructor,
    state: stream.streamBaseState as Int32Array,
    readResult: stream.kReadBytesOrError as number,
    lastWriteWasAsync: stream.kLastWriteWasAsync as number,
  };
}

export interface ReadEvents {
  /** Bytes arrived. The chunk is the caller's to keep. */
  readonly data: (chunk: Uint8Array) => void;
  /** The peer sent its FIN: nothing more will arrive. */
  readonly end: () => void;
  /** A read failed ('ECONNRESET', mostly); the connection is closed already. */
  readonly failed?: (code: string) => void;
}

/**
 * One TCP connection. Reading starts with `read()`; `write()` says whether the bytes are handed
 * over already or will be (then `flushed` is called, and the caller should stop feeding it);
 * `end()` sends a FIN once the writes before it are out; `reset()` and `close()` end it.
 */
export class TcpConnection {
  private closing = false;
  /** Closed or reset: the close listeners have run. */
  private ended = false;
  private shuttingDown = false;
  private writesInFlight = 0;
  private spareWriteRequest: InstanceType<RequestConstructor> | undefined;
  private closeListeners: (() => void)[] = [];

  constructor(private readonly handle: TcpHandle) {
    handle.setNoDelay(true);
  }

  /** True when every write has reached the kernel (none waits in libuv's queue). */
  get flushed(): boolean {
    return this.writesInFlight === 0;
  }

  /** True from the moment close() or reset() is called (or the connection failed). */
  get closed(): boolean {
    return this.closing;
  }

  /** The peer's address and port (a getpeername() call: ask only when needed). */
  peer(): { address: string; port: number } {
    const out: { address?: string; port?: number } = {};
    this.handle.getpeername(out);
    return { address: out.address ?? '', port: out.port ?? 0 };
  }

  read(events: ReadEvents): void {
    this.handle.useUserBuffer(sharedReadBuffer);
    this.handle.onread = () => {
      const result = bindings.state[bindings.readResult] ?? 0;
      if (result > 0) {
        const chunk = Buffer.allocUnsafe(result);
        sharedReadBuffer.copy(chunk, 0, 0, result);
        events.data(chunk);
      } else if (result < 0) {
        if (getSystemErrorName(result) === 'EOF') {
          this.handle.readStop();
          events.end();
        } else {
          this.close();
          events.failed?.(getSystemErrorName(result));
        }
      }
    };
    this.resume();
  }

  pause(): void {
    if (!this.closing) this.handle.readStop();
  }

  resume(): void {
    if (!this.closing) this.handle.readStart();
  }

  /** Returns true when the bytes went out at once; otherwise `flushed` runs once they have. */
  write(chunk: Uint8Array, flushed: () => void): boolean {
    if (this.closing) return true;
    const request = this.spareWriteRequest ?? new bindings.WriteWrap();
    request.handle = this.handle;
    const status = this.handle.writeBuffer(request, chunk);
    if (status < 0) {
      this.close();
      return true;
    }
    if (!bindings.state[bindings.lastWriteWasAsync]) {
      this.spareWriteRequest = request;
      return true;
    }
    this.spareWriteRequest = undefined;
    // libuv writes the rest from this memory later: keep it alive until then.
    request.buffer = chunk;
    request.oncomplete = (result) => {
      this.writesInFlight--;
      if (result < 0) this.close();
      flushed();
    };
    this.writesInFlight++;
    return false;
  }

  /**
   * Sends a FIN after the pending writes (a half-close: reading goes on); `sent` runs once it is
   * out. Closing before then would cancel the writes still queued. A FIN that cannot be sent (the
   * peer reset the connection meanwhile) closes the connection instead: no `sent`.
   */
  end(sent: () => void): void {
    if (this.closing || this.shuttingDown) return;
    this.shuttingDown = true;
    const request = new bindings.ShutdownWrap();
    request.handle = this.handle;
    request.oncomplete = (status) => {
      if (status < 0) this.close();
      else sent();
    };
    if (this.handle.shutdown(request) < 0) this.close();
  }

  /**
   * Ends the connection with an RST. libuv refuses an RST once a FIN of ours is under way (its
   * shutdown would be cut short), so then a plain close is all there is.
   */
  reset(): void {
    if (this.closing) return;
    if (this.shuttingDown) {
      this.close();
      return;
    }
    this.closing = true;
    // The only failure libuv has is the FIN case above; a plain close then still frees the socket.
    if (this.handle.reset() < 0) this.handle.close();
    this.released();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.handle.close();
    this.released();
  }

  /**
   * Runs `listener` when the connection is closed or reset (at once if it is already). libuv
   * releases the descriptor inside close() and reset() themselves; only its bookkeeping waits for
   * the next loop turn, so no close callback is asked for (one call into JavaScript fewer for
   * every connection).
   */
  onClose(listener: () => void): void {
    if (this.ended) listener();
    else this.closeListeners.push(listener);
  }

  private released(): void {
    this.closing = true;
    this.ended = true;
    this.handle.onread = ignoreRead;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener();
  }
}

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  /** The local address to connect from (any port); the kernel chooses when absent. */
  readonly localAddress?: string;
}

/**
 * Opens a connection to host:port; `done` gets the connection, or the errno name of the failure
 * ('ECONNREFUSED', 'ECANCELED' after `cancel`). `cancel` closes a connect still under way.
 */
export function connectTcp(
  { host, port, localAddress }: ConnectTarget,
  done: (result: TcpConnection | string) => void,
): { cancel(): void } {
  const handle = new bindings.TCP(bindings.socketType);
  const connection = new TcpConnection(handle);
  const request = new bindings.TCPConnectWrap();
  let settled = false;
  const settle = (result: TcpConnection | string) => {
    if (settled) return;
    settled = true;
    if (typeof result === 'string') connection.close();
    done(result);
  };
  request.oncomplete = (status) => settle(status < 0 ? getSystemErrorName(status) : connection);
  const v6 = isIPv6(host);
  const bound = localAddress ? (v6 ? handle.bind6(localAddress, 0, 0) : handle.bind(localAddress, 0)) : 0;
  const status =
    bound < 0 ? bound : v6 ? handle.connect6(request, host, port) : handle.connect(request, host, port);
  if (status < 0) queueMicrotask(() => settle(getSystemErrorName(status)));
  return { cancel: () => settle('ECANCELED') };
}

/**
 * Takes the accepted connections of a listening `server` as `TcpConnection`s: the server keeps
 * its listening socket (and its sharing between worker processes), and no `net.Socket` is made.
 * `failed` gets accept()'s errors, such as EMFILE.
 */
export function acceptTcp(
  server: Server,
  accepted: (connection: TcpConnection) => void,
  failed: (code: string) => void,
): void {
  const listening = (server as unknown as { _handle: { onconnection: unknown } | null })._handle;
  if (!listening) throw new Error('acceptTcp: the server is not listening');
  listening.onconnection = (status: number, handle: TcpHandle | undefined) => {
    if (status < 0 || !handle) failed(getSystemErrorName(status));
    else accepted(new TcpConnection(handle));
  };
}
