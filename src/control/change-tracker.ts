/**
 * Keeps the current version of every object of one kind, and the changes since the last drain as
 * previous/current pairs (kube-proxy's ServiceChangeTracker and EndpointsChangeTracker keep the
 * same pairs). An update that leaves an object as it was — a resync, a new resourceVersion only,
 * or a change undone before the next sync — is dropped.
 */

export interface ObjectChange<T> {
  readonly key: string;
  /** The version the data plane last saw; undefined when the object is new. */
  readonly previous: T | undefined;
  /** The version now; undefined when the object was deleted. */
  readonly current: T | undefined;
}

export class ChangeTracker<T> {
  /** Fingerprints are computed when first compared, so a first load never pays for them. */
  private readonly objects = new Map<string, { object: T; fingerprint?: string }>();
  private readonly pending = new Map<string, { previous: T | undefined; previousFingerprint: string }>();

  /** @param fingerprint what makes two versions the same (resourceVersion must not count). */
  constructor(private readonly fingerprint: (object: T) => string) {}

  /** Records a new version (or a deletion, with `object` undefined); returns false for a no-op. */
  update(key: string, object: T | undefined): boolean {
    const before = this.objects.get(key);
    if (before === undefined && object === undefined) return false;
    const beforeFingerprint = before ? this.fingerprintOf(before) : '';
    const fingerprint = object === undefined ? '' : before ? this.fingerprint(object) : undefined;
    if (before && beforeFingerprint === fingerprint) return false;
    if (object === undefined) this.objects.delete(key);
    else this.objects.set(key, { object, fingerprint });
    const change = this.pending.get(key);
    if (!change) {
      this.pending.set(key, { previous: before?.object, previousFingerprint: beforeFingerprint });
    } else if (change.previousFingerprint === (fingerprint ?? (object ? this.fingerprint(object) : ''))) {
      this.pending.delete(key); // back where the last sync left it
    }
    return true;
  }

  private fingerprintOf(entry: { object: T; fingerprint?: string }): string {
    entry.fingerprint ??= this.fingerprint(entry.object);
    return entry.fingerprint;
  }

  get(key: string): T | undefined {
    return this.objects.get(key)?.object;
  }

  *values(): Generator<T> {
    for (const entry of this.objects.values()) yield entry.object;
  }

  get size(): number {
    return this.objects.size;
  }

  hasPendingChanges(): boolean {
    return this.pending.size > 0;
  }

  /** The changes since the last drain, which then start afresh. */
  drain(): ObjectChange<T>[] {
    const changes = [...this.pending].map(([key, { previous }]) => ({
      key,
      previous,
      current: this.get(key),
    }));
    this.pending.clear();
    return changes;
  }
}

/** A fingerprint for decoded Kubernetes objects that ignores resourceVersion. */
export function objectFingerprint(object: { metadata: { resourceVersion?: string } }): string {
  return JSON.stringify({ ...object, metadata: { ...object.metadata, resourceVersion: undefined } });
}
