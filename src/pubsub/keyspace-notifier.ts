import { NOTIFY, parseNotifyFlags } from '../core/notify-flags.js';
import type { CommandFlag } from '../commands/spec.js';
import type { Keyspace } from '../commands/keyspace.js';
import type { PubSubHub } from './pubsub-hub.js';
import { deriveEvents, emitsEvents, type KeyEvent } from './keyspace-events.js';
import { RecordingKeyspace } from './recording-keyspace.js';

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

  /** Nothing is recorded unless some notification can come out of this command. */
  private wants(name: string, flags: readonly CommandFlag[]): boolean {
    if ((this.flags & (NOTIFY.keyspace | NOTIFY.keyevent)) === 0) return false;
    return emitsEvents(name) || ((this.flags & NOTIFY.keyMiss) !== 0 && flags.includes('readonly'));
  }

  /**
   * Runs one command on `ks`, recording what it changes when notifications are on, and publishes
   * its events once it returned. A command that throws publishes nothing.
   */
  run(name: string, flags: readonly CommandFlag[], argv: readonly Buffer[], ks: Keyspace, body: (ks: Keyspace) => void): void {
    if (!this.wants(name, flags)) {
      body(ks);
      return;
    }
    const rec = new RecordingKeyspace(ks);
    body(rec);
    const first = argv[1];
    const touched = first !== undefined && rec.found(first) ? first : undefined;
    const events = deriveEvents(name, argv, rec.recorded(), touched);
    if (flags.includes('readonly')) for (const key of rec.misses) events.push({ cls: 'keyMiss', event: 'keymiss', key });
    for (const e of events) this.publish(e);
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
