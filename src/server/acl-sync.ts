/**
 * Keeps a cluster node's ACL users in step with its peers (acl-document.ts): a local change becomes
 * a new document, persisted in the node's store and pushed to every peer; a newer document from a
 * peer replaces the users here. Standalone nodes never create documents.
 */
import type { AclRegistry } from '../acl/acl-registry.js';
import { isAclDocument, nextDocument, supersedes, type AclDocument } from '../acl/acl-document.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';

const META_KEY = 'acl-document';

export class AclSync {
  private current: AclDocument | undefined;
  private applying = false;
  /** Sends a document to every peer (set once the cluster is up). */
  push: (doc: AclDocument) => void = () => undefined;

  constructor(private readonly acl: AclRegistry, private readonly store: Store, private readonly nodeId: string, private readonly logger: Logger) {}

  /** At start-up: the persisted document, newer than any file or config the node started with, wins. */
  restore(): void {
    const saved = this.store.getMeta(META_KEY);
    if (saved === undefined) return;
    let doc: unknown;
    try {
      doc = JSON.parse(saved.toString('latin1'));
    } catch {
      doc = undefined;
    }
    if (!isAclDocument(doc)) {
      this.logger.warn('stored ACL document unreadable, ignored');
      return;
    }
    this.install(doc);
  }

  /** The registry changed here (SETUSER, DELUSER, ACL LOAD): a new document for the cluster. */
  localChange(): void {
    if (this.applying) return;
    const doc = nextDocument(this.current, Date.now(), this.nodeId, this.acl.toText());
    this.current = doc;
    this.persist(doc);
    this.push(doc);
  }

  /** A document from a peer; applied when newer than ours. */
  receive(payload: unknown): void {
    if (!isAclDocument(payload) || !supersedes(payload, this.current)) return;
    if (this.install(payload)) this.persist(payload);
  }

  /** What to push on the periodic round: our document, if there is one. */
  document(): AclDocument | undefined {
    return this.current;
  }

  private install(doc: AclDocument): boolean {
    this.applying = true;
    try {
      const errors = this.acl.loadText(doc.text, 'cluster ACL document', true);
      if (errors !== undefined) {
        this.logger.warn({ from: doc.node, errors }, 'ACL document refused');
        return false;
      }
    } finally {
      this.applying = false;
    }
    this.current = doc;
    return true;
  }

  private persist(doc: AclDocument): void {
    this.store.setMeta(META_KEY, Buffer.from(JSON.stringify(doc), 'latin1')).catch((err: unknown) => this.logger.error({ err }, 'ACL document not persisted'));
  }
}
