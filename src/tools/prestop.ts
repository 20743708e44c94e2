import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Redis } from 'ioredis';
import { leaveFinished, podOrdinal, scaledAway, statefulSetOf } from './scale-down.js';

/**
 * Kubernetes preStop hook of the StatefulSet (deploy/kubernetes/ringkv.yaml):
 *   node dist/src/tools/prestop.js
 * When the pod is being scaled away (its ordinal is at or above the StatefulSet's replicas), it
 * sends RINGKV.LEAVE to its own node and waits until no member has slots moving, so the data has
 * moved before the pod stops. On a restart it does nothing. Reads POD_NAME and POD_NAMESPACE (the
 * downward API), RINGKV_PORT and RINGKV_REQUIREPASS, and the pod's service account (allowed to get
 * its StatefulSet). Every failure is logged and ends the hook: it must never block a termination
 * beyond the pod's grace period, which bounds it anyway.
 */

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Gossip reaches every member within a few rounds (1 s each at the default node timeout). */
const PROPAGATE_MS = 5000;
const POLL_MS = 1000;

const log = (msg: string): void => console.log(`ringkv preStop: ${msg}`);

/** spec.replicas of a StatefulSet, from the API server with the pod's service account. */
export function statefulSetReplicas(namespace: string, name: string): Promise<number> {
  const token = readFileSync(`${SERVICE_ACCOUNT}/token`, 'utf8').trim();
  const ca = readFileSync(`${SERVICE_ACCOUNT}/ca.crt`);
  const host = process.env.KUBERNETES_SERVICE_HOST ?? 'kubernetes.default.svc';
  const port = Number(process.env.KUBERNETES_SERVICE_PORT ?? 443);
  return new Promise((resolve, reject) => {
    const req = https.get({ host, port, ca, path: `/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}`, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`API server answered ${res.statusCode}: ${body.slice(0, 200)}`));
        const replicas = (JSON.parse(body) as { spec?: { replicas?: number } }).spec?.replicas;
        if (typeof replicas !== 'number') return reject(new Error('StatefulSet has no spec.replicas'));
        resolve(replicas);
      });
    });
    req.on('timeout', () => req.destroy(new Error('API server did not answer')));
    req.on('error', reject);
  });
}

function connect(host: string, port: number, password: string | undefined): Redis {
  const r = new Redis({ host, port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, commandTimeout: 3000 });
  r.on('error', () => undefined);
  return r;
}

/** Slots moving as one member reports them (INFO ringkv); undefined when it does not answer. */
async function movingAt(address: string, password: string | undefined): Promise<number | undefined> {
  const i = address.lastIndexOf(':');
  const r = connect(address.slice(0, i), Number(address.slice(i + 1)), password);
  try {
    await r.connect();
    const info = (await r.call('info', 'ringkv')) as string;
    const m = /ringkv_rebalance_slots_moving:(\d+)/.exec(info);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

/**
 * RINGKV.LEAVE on the node at 127.0.0.1:port, then waits until the other members report no slot
 * moving (or the deadline). Resolves with whether the move was seen to finish.
 */
export async function leaveAndWait(port: number, password: string | undefined, deadlineMs: number): Promise<boolean> {
  const r = connect('127.0.0.1', port, password);
  let others: string[];
  try {
    await r.connect();
    const nodes = (await r.call('cluster', 'nodes')) as string;
    others = nodes.split('\n').filter((l) => l !== '' && !l.includes('myself') && !l.includes('nofailover')).map((l) => l.split(' ')[1]!.split('@')[0]!);
    await r.call('ringkv.leave');
  } finally {
    r.disconnect();
  }
  log(`left the ring; waiting for ${others.length} members to finish moving its slots`);
  const started = Date.now();
  let sawMoving = false;
  while (Date.now() < deadlineMs) {
    const reports = await Promise.all(others.map((a) => movingAt(a, password)));
    if (reports.some((n) => n !== undefined && n > 0)) sawMoving = true;
    if (leaveFinished(reports, sawMoving, Date.now() - started, PROPAGATE_MS)) {
      log(`slots moved in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return true;
    }
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
  log('deadline reached with slots still moving; anti-entropy finishes the move from the remaining replicas');
  return false;
}

async function main(): Promise<void> {
  const pod = process.env.POD_NAME ?? '';
  const namespace = process.env.POD_NAMESPACE ?? '';
  const ordinal = podOrdinal(pod);
  const set = statefulSetOf(pod);
  if (ordinal === undefined || set === undefined || namespace === '') {
    log(`POD_NAME (${pod || 'unset'}) or POD_NAMESPACE (${namespace || 'unset'}) do not name a StatefulSet pod; nothing to do`);
    return;
  }
  const replicas = await statefulSetReplicas(namespace, set);
  if (!scaledAway(ordinal, replicas)) {
    log(`${pod} restarts (${set} keeps ${replicas} replicas); staying on the ring`);
    return;
  }
  const graceSeconds = Number(process.env.RINGKV_PRESTOP_TIMEOUT_SECONDS ?? 3000);
  log(`${pod} is scaled away (${set} now has ${replicas} replicas); decommissioning`);
  await leaveAndWait(Number(process.env.RINGKV_PORT ?? 6379), process.env.RINGKV_REQUIREPASS || undefined, Date.now() + graceSeconds * 1000);
}

if (process.argv[1]?.endsWith('prestop.js')) {
  main().catch((err: unknown) => {
    log(`skipped: ${(err as Error).message}`);
  }).finally(() => process.exit(0));
}
