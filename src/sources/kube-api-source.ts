/**
 * The Kubernetes API as a source: list-then-watch informers (`@kubernetes/client-node`) for
 * Services, EndpointSlices and this node's Node object. The informer relists by itself when a
 * watch ends with 410 Gone; on any other failure we restart it after an exponential back-off.
 * `synced()` is reported once every informer has completed its first list.
 */
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import { KproxyError } from '../errors.js';
import { describeRawName, formatFieldErrors } from '../model/decode-metadata.js';
import { decodeObject, keyOf, type ProxiedKind } from '../model/decode-object.js';
import { isRecord } from '../model/field-reader.js';
import { kubeConfigFor } from './kube-config.js';
import { deliver, type ObjectSource, type SourceHandler } from './source.js';

export interface KubeApiSourceOptions {
  readonly kubeconfig?: string;
  readonly master?: string;
  /** The node whose Node object (zone label) is watched; none when unset. */
  readonly nodeName?: string;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** kube-proxy skips Services (and their slices) that another proxy owns, and headless ones. */
const PROXIED_SELECTOR = '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';

interface Informer {
  readonly kind: ProxiedKind;
  readonly listWatch: ListWatch<KubernetesObject>;
  listed: boolean;
  backoffMs: number;
  retry?: NodeJS.Timeout;
}

export class KubeApiSource implements ObjectSource {
  readonly description: string;
  private readonly config: KubeConfig;
  private readonly informers: Informer[] = [];
  private handler: SourceHandler | undefined;
  private stopped = false;
  private syncedReported = false;

  constructor(private readonly options: KubeApiSourceOptions) {
    this.config = kubeConfigFor(options);
    this.description = this.config.getCurrentCluster()?.server ?? 'in-cluster';
  }

  async start(handler: SourceHandler): Promise<void> {
    this.handler = handler;
    const core = this.config.makeApiClient(CoreV1Api);
    const discovery = this.config.makeApiClient(DiscoveryV1Api);
    this.add(
      'Service',
      '/api/v1/services',
      () => core.listServiceForAllNamespaces({ labelSelector: PROXIED_SELECTOR }),
      PROXIED_SELECTOR,
    );
    this.add(
      'EndpointSlice',
      '/apis/discovery.k8s.io/v1/endpointslices',
      () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: PROXIED_SELECTOR }),
      PROXIED_SELECTOR,
    );
    if (this.options.nodeName) {
      const fieldSelector = `metadata.name=${this.options.nodeName}`;
      this.add('Node', '/api/v1/nodes', () => core.listNode({ fieldSelector }), undefined, fieldSelector);
    }
    await Promise.all(this.informers.map((informer) => this.run(informer)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const informer of this.informers) {
      clearTimeout(informer.retry);
      await informer.listWatch.stop();
    }
  }

  private add(
    kind: ProxiedKind,
    path: string,
    list: () => Promise<KubernetesListObject<KubernetesObject>>,
    labelSelector?: string,
    fieldSelector?: string,
  ): void {
    const listOnce = async () => {
      const result = await list();
      informer.listed = true;
      informer.backoffMs = 0;
      return result;
    };
    const listWatch = new ListWatch(
      path,
      new Watch(this.config),
      listOnce,
      false,
      labelSelector,
      fieldSelector,
    );
    const informer: Informer = { kind, listWatch, listed: false, backoffMs: 0 };
    listWatch.on('add', (object) => this.received(kind, object));
    listWatch.on('update', (object) => this.received(kind, object));
    listWatch.on('delete', (object) => this.deleted(kind, object));
    listWatch.on('error', (error) => this.failed(informer, error));
    this.informers.push(informer);
  }

  private async run(informer: Informer): Promise<void> {
    if (this.stopped) return;
    await informer.listWatch.start();
    if (!this.syncedReported && this.informers.every((each) => each.listed)) {
      this.syncedReported = true;
      this.handler?.synced();
    }
  }

  private received(kind: ProxiedKind, raw: KubernetesObject): void {
    const result = decodeObject(kind, raw);
    if (result.ok) {
      if (this.handler) deliver(this.handler, kind, keyOf(result.object), result.object);
      return;
    }
    // The last good version stays in force; the API server should never have accepted this.
    this.handler?.problem(
      new KproxyError(
        'KPROXY_E_API_OBJECT',
        `${kind} ${describeRawName(raw)} from the API: ${formatFieldErrors(result.errors)}`,
        { hint: 'the previous version of this object stays in use until a valid one arrives' },
      ),
    );
  }

  private deleted(kind: ProxiedKind, raw: KubernetesObject): void {
    const name = raw.metadata?.name ?? '';
    const key = kind === 'Node' ? name : `${raw.metadata?.namespace ?? 'default'}/${name}`;
    if (this.handler) deliver(this.handler, kind, key, undefined);
  }

  private failed(informer: Informer, error: unknown): void {
    if (this.stopped) return;
    const initial = this.options.initialBackoffMs ?? 800;
    informer.backoffMs = Math.min(
      this.options.maxBackoffMs ?? 30_000,
      informer.backoffMs ? informer.backoffMs * 2 : initial,
    );
    this.handler?.problem(
      new KproxyError(
        'KPROXY_E_API',
        `${informer.kind} list/watch failed: ${describeError(error)}; retrying in ${informer.backoffMs}ms`,
        {
          hint: 'check that the API server is reachable and that kproxy may list and watch this kind',
          cause: error,
        },
      ),
    );
    clearTimeout(informer.retry);
    informer.retry = setTimeout(() => void this.run(informer), informer.backoffMs);
  }
}

/** One line about a failed request: `HTTP 500 (InternalError)`, or the error's first line. */
function describeError(error: unknown): string {
  const failure = error as { code?: unknown; statusCode?: unknown; body?: unknown };
  const status = typeof failure.code === 'number' ? failure.code : failure.statusCode;
  if (typeof status === 'number') {
    const body = typeof failure.body === 'string' ? parseJson(failure.body) : failure.body;
    const reason = isRecord(body) ? (body.message ?? body.reason) : undefined;
    return `HTTP ${status}${typeof reason === 'string' && reason !== '' ? ` (${reason})` : ''}`;
  }
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.split('\n')[0] ?? text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
