/**
 * Every error kproxy reports to a user. Each has a stable code (documented in docs/errors.md; a
 * test keeps the two in step), says what was wrong and where, and what to do about it.
 */

export const errorCodes = {
  KPROXY_E_USAGE: 'bad command-line usage',
  KPROXY_E_UNKNOWN_MODE: 'proxy mode not known',
  KPROXY_E_UNKNOWN_SCHEDULER: 'IPVS scheduler not known',
  KPROXY_E_CONFIG: 'KubeProxyConfiguration invalid',
  KPROXY_E_MANIFEST: 'Service or EndpointSlice manifest invalid',
  KPROXY_E_PORT_IN_USE: 'a port kproxy must listen on is already in use',
  KPROXY_E_LISTEN: 'kproxy could not listen on an address',
  KPROXY_E_API: 'the Kubernetes API could not be reached or read',
  KPROXY_E_API_OBJECT: 'an object from the Kubernetes API is invalid',
  KPROXY_E_CONFIG_CHANGED: 'the configuration file changed; kproxy exits to restart with it',
  KPROXY_E_SCHEDULER_FLAG: 'IPVS scheduler flag or option invalid',
  KPROXY_E_NFT_APPLY: 'nft refused the rules for a Service',
  KPROXY_E_RULES_REJECTED: 'the kernel tool rejected the rules kproxy generated',
  KPROXY_E_KERNEL_TOOL: 'a kernel tool kproxy runs failed or is missing',
  KPROXY_E_LAB: 'the load lab could not set up or run a scenario',
  KPROXY_E_UNSUPPORTED_PROTOCOL: 'a Service port uses a protocol this data plane cannot carry',
  KPROXY_E_SERVICE_INTERFACE: 'kproxy could not put Service addresses on kube-ipvs0',
  KPROXY_E_NO_IPVS: 'the kernel has no IPVS; ipvsadm cannot program virtual servers',
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** Codes whose errors come from what the user gave us; the CLI exits 2 for these, 1 otherwise. */
const badInputCodes: ReadonlySet<ErrorCode> = new Set([
  'KPROXY_E_USAGE',
  'KPROXY_E_UNKNOWN_MODE',
  'KPROXY_E_UNKNOWN_SCHEDULER',
  'KPROXY_E_CONFIG',
  'KPROXY_E_MANIFEST',
  'KPROXY_E_SCHEDULER_FLAG',
]);

export interface KproxyErrorOptions {
  /** What the user can do about it. */
  readonly hint?: string;
  readonly cause?: unknown;
}

export class KproxyError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: KproxyErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'KproxyError';
    this.code = code;
    this.hint = options.hint;
  }

  get isBadInput(): boolean {
    return badInputCodes.has(this.code);
  }

  /** The message a user sees: what, then what to do. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}

/** The error Node raises when an address is taken, turned into one that names the port and its user. */
export function listenError(error: unknown, address: string, port: number, purpose: string): KproxyError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new KproxyError(
      'KPROXY_E_PORT_IN_USE',
      `listen tcp ${address}:${port}: bind: address already in use (${purpose})`,
      {
        hint: `stop whatever listens on port ${port} (ss -ltnp 'sport = :${port}') or choose another port`,
        cause: error,
      },
    );
  }
  return new KproxyError(
    'KPROXY_E_LISTEN',
    `listen tcp ${address}:${port} failed (${purpose}): ${String(error)}`,
    {
      cause: error,
    },
  );
}
