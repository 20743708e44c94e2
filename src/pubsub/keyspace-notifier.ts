import { NOTIFY, parseNotifyFlags } from '../core/notify-flags.js';
import type { CommandFlag } from '../commands/spec.js';
import type { Keyspace } from '../commands/keyspace.js';
import type { PubSubHub } from './pubsub-hub.js';
import { deriveEvents, emitsEvents, type KeyEvent } from './keyspace-events.js';
import { RecordingKeyspace } from './recording-keyspace.js';
import { readLookups, type ReadLookups } from './keyspace-misses.js';

const NO_LOOKUPS: ReadLookups = { kind: 'none' };

const KEYSPACE_PREFIX = Buffer.from('__keyspace@0__:');
const KEYEVENT_PREFIX = '__keyevent@0__:';

/**
 * Keyspace notifications (`notify-keyspace-events`), published as Redis publishes them: on
 * `__keyspace@0__:<key>` (message: the event) and `__keyevent@0__:<event>` (message: the key).
 * They are published on the node that ran the command (its coordinator in a cluster), to that
 * node's subscribers, as a Redis Cluster master publishes the events of its own keys.
 */
export class KeyspaceNotifier {
  private flags = 0;

  constructor(private readonly hub: PubSubHub) {}

  configure(text: string): void {
    this.flags = parseNotifyFlags(text);
  }

  /** Whether this command's changes can produce notifications (others are not recorded). */
  private wantsChanges(name: string): boolean {
    return (this.flags & (NOTIFY.keyspace | NOTIFY.keyevent)) !== 0 && emitsEvents(name);
  }

  /** This command's read lookups when key-miss events are on and it has any (else `none`). */
  private lookups(name: string, flags: readonly CommandFlag[], argv: readonly Buffer[]): ReadLookups {
    if ((this.flags & (NOTIFY.keyspace | NOTIFY.keyevent)) === 0 || (this.flags & NOTIFY.keyMiss) === 0) return NO_LOOKUPS;
    return readLookups(name, argv, flags.includes('readonly'));
  }

  /**
   * Runs one command on `ks`, recording what it changes when notifications are on, and publishes
   * its events once it returned. A command that throws publishes only the key misses of the
   * lookups it made before failing, as Redis's do (XREADGROUP's NOGROUP, XINFO's no such key).
   */
  run(name: string, flags: readonly CommandFlag[], argv: readonly Buffer[], ks: Keyspace, body: (ks: Keyspace) => void): void {
    const lookups = this.lookups(name, flags, argv);
    if (!this.wantsChanges(name) && lookups.kind === 'none') {
      body(ks);
      return;
    }
    // Redis makes its read lookups before the command writes anything, so whether each one
    // misses is whether the key is missing now; asked here because ringkv's command may skip a
    // lookup Redis makes (SDIFFSTORE stops at a missing first set, Redis still reads the rest).
    const missingBefore = new Set<string>();
    if (lookups.kind === 'keys') for (const k of lookups.keys) if (ks.get(k) === undefined) missingBefore.add(k.toString('latin1'));
    const rec = new RecordingKeyspace(ks);
    try {
      body(rec);
    } catch (err) {
      for (const key of this.failedMisses(lookups, rec, missingBefore)) this.publish({ cls: 'keyMiss', event: 'keymiss', key });
      throw err;
    }
    // Lookups come first in every Redis command, so its misses precede the changes' events.
    const events: KeyEvent[] = [];
    if (lookups.kind === 'keys') {
      for (const key of lookups.keys) if (missingBefore.has(key.toString('latin1'))) events.push({ cls: 'keyMiss', event: 'keymiss', key });
    } else if (lookups.kind === 'recorded') {
      for (const key of rec.misses) if (!lookups.except.some((k) => k.equals(key))) events.push({ cls: 'keyMiss', event: 'keymiss', key });
    }
    if (this.wantsChanges(name)) {
      const first = argv[1];
      const touched = first !== undefined && rec.found(first) ? first : undefined;
      events.push(...deriveEvents(name, argv, rec.recorded(), touched));
    }
    for (const e of events) this.publish(e);
  }

  /**
   * The misses of a command that failed: those of Redis's read lookups that ringkv's command
   * also made before failing (each once), since a command that fails on its arguments looks
   * nothing up in either; all of them for a command that Redis looks up before its arguments.
   */
  private failedMisses(lookups: ReadLookups, rec: RecordingKeyspace, missingBefore: ReadonlySet<string>): Buffer[] {
    if (lookups.kind === 'none') return [];
    const seen = new Set(lookups.kind === 'keys' && lookups.eager ? missingBefore : rec.misses.map((k) => k.toString('latin1')));
    if (lookups.kind === 'recorded') return rec.misses.filter((key) => !lookups.except.some((k) => k.equals(key)));
    const out: Buffer[] = [];
    for (const key of lookups.keys) {
      const id = key.toString('latin1');
      if (!seen.delete(id)) continue;
      out.push(key);
    }
    return out;
  }

  /** A key removed because its TTL passed, by the node that expired it. */
  expired(key: Buffer): void {
    if (this.flags !== 0) this.publish({ cls: 'expired', event: 'expired', key });
  }

  /** A key removed by maxmemory eviction, by the node that evicted it. */
  evicted(key: Buffer): void {
    if (this.flags !== 0) this.publish({ cls: 'evicted', event: 'evicted', key });
  }

  private publish(e: KeyEvent): void {
    if ((this.flags & NOTIFY[e.cls]) === 0) return;
    const event = Buffer.from(e.event);
    if (this.flags & NOTIFY.keyspace) this.hub.publish(Buffer.concat([KEYSPACE_PREFIX, e.key]), event);
    if (this.flags & NOTIFY.keyevent) this.hub.publish(Buffer.from(KEYEVENT_PREFIX + e.event), e.key);
  }
}
