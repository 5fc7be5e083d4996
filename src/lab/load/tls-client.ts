import { isIP } from 'node:net';
import {
  type ConnectionOptions,
  createSecureContext,
  type SecureContext,
  type SecureVersion,
  type TLSSocket,
} from 'node:tls';
import { KproxyError } from '../../errors.js';
import { hostOf } from './request.js';

/** What ab lets a user say about TLS: -I, -Z, -f, -E. */
export interface TlsSettings {
  /** Send SNI (ab sends it unless -I, and never for an IP address). */
  readonly sni: boolean;
  /** OpenSSL cipher list or TLS 1.3 suites (ab -Z). */
  readonly ciphers?: string;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  /** PEM holding the client certificate chain and its private key (ab -E). */
  readonly clientPem?: string;
}

/** What ab prints of a TLS run, from the first connection that completed its handshake. */
export interface TlsInfo {
  /** ab's "SSL/TLS Protocol": protocol,cipher,server key bits,cipher secret bits. */
  readonly protocol: string;
  /** ab's "Server Temp Key", e.g. `X25519 253 bits`, `ECDH prime256v1 256 bits`. */
  readonly serverTempKey?: string;
  /** ab's "TLS Server Name": the SNI sent. */
  readonly serverName?: string;
}

const PROTOCOLS: Record<string, [SecureVersion, SecureVersion] | undefined> = {
  ALL: ['TLSv1', 'TLSv1.3'],
  TLS1: ['TLSv1', 'TLSv1'],
  'TLS1.1': ['TLSv1.1', 'TLSv1.1'],
  'TLS1.2': ['TLSv1.2', 'TLSv1.2'],
  'TLS1.3': ['TLSv1.3', 'TLSv1.3'],
};

/** ab -f: SSL2, SSL3, TLS1, TLS1.1, TLS1.2, TLS1.3 or ALL → the versions node:tls may negotiate. */
export function protocolRange(name: string): [SecureVersion, SecureVersion] {
  const upper = name.toUpperCase();
  if (upper === 'SSL2' || upper === 'SSL3') {
    throw new KproxyError('KPROXY_E_USAGE', `-f ${name}: ${upper} is not available`, {
      hint: "Node's TLS (OpenSSL 3) speaks TLS1 to TLS1.3 only; use -f TLS1.2, TLS1.3 or ALL",
    });
  }
  const range = PROTOCOLS[upper];
  if (!range) {
    throw new KproxyError('KPROXY_E_USAGE', `-f ${name}: unknown protocol`, {
      hint: 'one of TLS1, TLS1.1, TLS1.2, TLS1.3, ALL',
    });
  }
  return range;
}

/**
 * The tls.connect options shared by every connection of a run against `url`. The secure context
 * (ciphers, versions, client certificate) is built once here, not at each connection.
 */
export function tlsConnectOptions(url: URL, settings: TlsSettings): ConnectionOptions {
  return {
    // ab does not verify the server's certificate: it measures, it does not authenticate.
    rejectUnauthorized: false,
    servername: serverNameOf(url, settings),
    secureContext: secureContextOf(settings),
  };
}

/** The settings as one secure context; a cipher list or certificate OpenSSL refuses is a usage error. */
export function secureContextOf(settings: TlsSettings): SecureContext {
  const { ciphers, minVersion, maxVersion, clientPem } = settings;
  const protocol = { ciphers, minVersion, maxVersion };
  const context = refusedAs('-Z/-f', 'check the names with `openssl ciphers`, and that -f allows them', () =>
    createSecureContext(protocol),
  );
  if (!clientPem) return context;
  return refusedAs('-E', 'give -E one PEM file with the certificate chain and its private key', () =>
    createSecureContext({ ...protocol, cert: clientPem, key: clientPem }),
  );
}

function refusedAs<T>(flags: string, hint: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw new KproxyError('KPROXY_E_USAGE', `TLS settings refused (${flags}): ${(error as Error).message}`, {
      hint,
      cause: error,
    });
  }
}

/** The SNI to send: the host name, unless -I or the host is an address (SNI names hosts only). */
export function serverNameOf(url: URL, settings: TlsSettings): string | undefined {
  const host = hostOf(url);
  return settings.sni && isIP(host) === 0 ? host : undefined;
}

/** ab's TLS lines, from what Node can tell of a connected socket. */
export function tlsInfoOf(socket: TLSSocket, serverName: string | undefined): TlsInfo {
  const cipher = socket.getCipher();
  const keyBits = socket.getPeerCertificate()?.bits ?? 0;
  const protocol = `${socket.getProtocol() ?? ''},${cipher.name},${keyBits},${secretBits(cipher.standardName)}`;
  return { protocol, serverTempKey: tempKeyOf(socket), serverName };
}

/** The symmetric key size of a suite, by its standard name (TLS_AES_256_GCM_SHA384 → 256). */
function secretBits(standardName: string): number {
  if (/CHACHA20/.test(standardName)) return 256;
  const aes = /(?:AES|CAMELLIA|ARIA)_(\d+)/.exec(standardName);
  if (aes?.[1]) return Number(aes[1]);
  return /3DES/.test(standardName) ? 112 : 0;
}

function tempKeyOf(socket: TLSSocket): string | undefined {
  const key = socket.getEphemeralKeyInfo();
  if (!key || !('type' in key) || !key.type) return undefined;
  const size = 'size' in key ? key.size : 0;
  const name = 'name' in key ? key.name : undefined;
  if (key.type === 'DH') return `DH ${size} bits`;
  // X25519 and X448 are their own key types, not named curves: ab prints their short name alone.
  if (name === 'X25519' || name === 'X448') return `${name} ${size} bits`;
  return `ECDH ${name ?? '?'} ${size} bits`;
}
