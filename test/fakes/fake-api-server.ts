/**
 * A small Kubernetes API server for tests: list and watch (with resourceVersion, chunked watch
 * events) of Services, EndpointSlices and Nodes, over node:http on loopback. A test can drop
 * every open watch, compact history (so an old resourceVersion gets 410 Gone), fail lists, and
 * restart the server on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Resource = 'services' | 'endpointslices' | 'nodes';

interface StoredEvent {
  readonly rv: number;
  readonly resource: Resource;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

const PATHS: Record<string, Resource> = {
  '/api/v1/services': 'services',
  '/apis/discovery.k8s.io/v1/endpointslices': 'endpointslices',
  '/api/v1/nodes': 'nodes',
};

const LIST_KINDS: Record<Resource, string> = {
  services: 'ServiceList',
  endpointslices: 'EndpointSliceList',
  nodes: 'NodeList',
};

export class FakeApiServer {
  private server: Server | undefined;
  private port = 0;
  private rv = 100;
  /** Watches may resume from any resourceVersion after this one; older ones get 410 Gone. */
  private compactedAt = 100;
  private readonly objects: Record<Resource, Map<string, KubeObject>> = {
    services: new Map(),
    endpointslices: new Map(),
    nodes: new Map(),
  };
  private events: StoredEvent[] = [];
  private readonly watches = new Set<{ resource: Resource; response: ServerResponse }>();
  private readonly sockets = new Set<Socket>();
  private failingLists = 0;
  readonly requests: { list: Record<Resource, number>; watch: Record<Resource, number> } = {
    list: { services: 0, endpointslices: 0, nodes: 0 },
    watch: { services: 0, endpointslices: 0, nodes: 0 },
  };

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.watches.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops and starts again on the same port; `forgetHistory` makes every earlier resourceVersion expire. */
  async restart(options: { forgetHistory?: boolean } = {}): Promise<void> {
    await this.stop();
    if (options.forgetHistory) this.compact();
    await this.start();
  }

  upsert(resource: Resource, object: KubeObject): void {
    const key = keyOf(object);
    const type = this.objects[resource].has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.rv) } };
    this.objects[resource].set(key, stored);
    this.publish({ rv: this.rv, resource, type, object: stored });
  }

  remove(resource: Resource, namespace: string | undefined, name: string): void {
    const key = namespace ? `${namespace}/${name}` : name;
    const object = this.objects[resource].get(key);
    if (!object) return;
    this.objects[resource].delete(key);
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++this.rv) } };
    this.publish({ rv: this.rv, resource, type: 'DELETED', object: stored });
  }

  /** Closes every open watch connection, as a load balancer in front of the API server might. */
  dropWatches(): void {
    for (const watch of this.watches) watch.response.socket?.destroy();
    this.watches.clear();
  }

  /** Forgets the event history: a watch from an earlier resourceVersion now gets 410 Gone. */
  compact(): void {
    this.compactedAt = this.rv;
    this.events = [];
  }

  /** The next `count` list requests answer 500. */
  failLists(count: number): void {
    this.failingLists = count;
  }

  openWatches(): number {
    return this.watches.size;
  }

  private publish(event: StoredEvent): void {
    this.events.push(event);
    for (const watch of this.watches) {
      if (watch.resource === event.resource) writeEvent(watch.response, event.type, event.object);
    }
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const resource = PATHS[url.pathname];
    if (request.method !== 'GET' || !resource) {
      sendStatus(response, 404, 'NotFound');
    } else if (url.searchParams.get('watch') === 'true') {
      this.watch(resource, url, response);
    } else {
      this.list(resource, url, response);
    }
  }

  private list(resource: Resource, url: URL, response: ServerResponse): void {
    this.requests.list[resource]++;
    if (this.failingLists > 0) {
      this.failingLists--;
      sendStatus(response, 500, 'InternalError');
      return;
    }
    const items = [...this.objects[resource].values()].filter((object) => matchesField(object, url));
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        kind: LIST_KINDS[resource],
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      }),
    );
  }

  private watch(resource: Resource, url: URL, response: ServerResponse): void {
    this.requests.watch[resource]++;
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    if (from < this.compactedAt) {
      // As the API server does: 200, one ERROR event carrying a 410 Status, then the end of the stream.
      response.writeHead(200, { 'content-type': 'application/json' });
      writeEvent(response, 'ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        reason: 'Expired',
        code: 410,
      } as never);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    for (const event of this.events) {
      if (event.resource === resource && event.rv > from) writeEvent(response, event.type, event.object);
    }
    const watch = { resource, response };
    this.watches.add(watch);
    response.on('close', () => this.watches.delete(watch));
  }
}

function keyOf(object: KubeObject): string {
  return object.metadata.namespace
    ? `${object.metadata.namespace}/${object.metadata.name}`
    : object.metadata.name;
}

function matchesField(object: KubeObject, url: URL): boolean {
  const selector = url.searchParams.get('fieldSelector');
  const name = selector?.match(/^metadata\.name=(.+)$/)?.[1];
  return name === undefined || object.metadata.name === name;
}

function writeEvent(response: ServerResponse, type: string, object: KubeObject): void {
  response.write(`${JSON.stringify({ type, object })}\n`);
}

function sendStatus(response: ServerResponse, code: number, reason: string): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code }));
}
