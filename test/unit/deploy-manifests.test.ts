/**
 * Goal: the Kubernetes manifests say what a working deployment needs, and the preStop decisions
 * tell a scale-down from a restart.
 * Method: deploy/kubernetes/ringkv.yaml is parsed (every document) and checked: a headless Service
 * publishing not-ready pods, a StatefulSet with parallel pod management, a volume claim per pod
 * mounted at the data directory, probes and preStop running scripts the image ships, seeds naming
 * every pod, secrets from a Secret, a PodDisruptionBudget; the pure decisions of the hook are
 * called directly.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/server.js';
import { leaveFinished, podOrdinal, scaledAway, statefulSetOf } from '../../src/tools/scale-down.js';

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/kubernetes/ringkv.yaml'), 'utf8')).map((d) => d.toJS() as Doc | null).filter((d): d is Doc => d !== null);
const byKind = (kind: string): Doc[] => docs.filter((d) => d.kind === kind);

describe('Kubernetes manifests', () => {
  const set = byKind('StatefulSet')[0]!;
  const spec = set.spec as {
    serviceName: string; replicas: number; podManagementPolicy: string;
    template: { spec: { serviceAccountName: string; terminationGracePeriodSeconds: number; containers: Array<{
      env: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
      volumeMounts: Array<{ name: string; mountPath: string }>;
      readinessProbe: { exec: { command: string[] } }; livenessProbe: { exec: { command: string[] } };
      lifecycle: { preStop: { exec: { command: string[] } } };
    }> } };
    volumeClaimTemplates: Array<{ metadata: { name: string }; spec: { accessModes: string[] } }>;
  };
  const container = spec.template.spec.containers[0]!;
  const env = new Map(container.env.map((e) => [e.name, e]));

  it('a headless Service publishes every pod, ready or not', () => {
    const headless = byKind('Service').find((s) => s.metadata.name === spec.serviceName)!;
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
  });

  it('the StatefulSet starts pods in parallel, each with its own volume at the data directory', () => {
    expect(spec.podManagementPolicy).toBe('Parallel');
    expect(spec.replicas).toBe(3);
    const claim = spec.volumeClaimTemplates[0]!;
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(container.volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: env.get('RINGKV_DIR')!.value });
  });

  it('probes and preStop run scripts the image ships; the grace period outlasts the hook', () => {
    for (const command of [container.readinessProbe.exec.command, container.livenessProbe.exec.command, container.lifecycle.preStop.exec.command]) {
      expect(command[0]).toBe('node');
      // The image copies dist/src; these are built from src/tools.
      expect(existsSync(path.join(ROOT, command[1]!))).toBe(true);
    }
    expect(container.lifecycle.preStop.exec.command[1]).toBe('dist/src/tools/prestop.js');
    expect(Number(env.get('RINGKV_PRESTOP_TIMEOUT_SECONDS')!.value)).toBeLessThan(spec.template.spec.terminationGracePeriodSeconds);
  });

  it('nodes announce their stable pod names and seed with every pod of the set', () => {
    expect(env.get('RINGKV_CLUSTER_ENABLED')!.value).toBe('yes');
    expect(env.get('RINGKV_CLUSTER_ANNOUNCE_IP')!.value).toBe(`$(POD_NAME).${spec.serviceName}.$(POD_NAMESPACE).svc.cluster.local`);
    const seeds = env.get('RINGKV_CLUSTER_SEEDS')!.value!.split(' ');
    expect(seeds).toEqual(Array.from({ length: spec.replicas }, (_, i) => `${set.metadata.name}-${i}.${spec.serviceName}.$(POD_NAMESPACE).svc.cluster.local:6379`));
    // Kubernetes expands $(VAR) only from variables defined before.
    const names = container.env.map((e) => e.name);
    expect(names.indexOf('POD_NAME')).toBeLessThan(names.indexOf('RINGKV_CLUSTER_ANNOUNCE_IP'));
    expect(names.indexOf('POD_NAMESPACE')).toBeLessThan(names.indexOf('RINGKV_CLUSTER_SEEDS'));
  });

  it('passwords come from a Secret; the hook may read its StatefulSet; a PDB allows one pod down', () => {
    expect(env.get('RINGKV_REQUIREPASS')!.valueFrom?.secretKeyRef).toEqual({ name: 'ringkv', key: 'password' });
    expect(env.get('RINGKV_CLUSTER_SECRET')!.valueFrom?.secretKeyRef).toEqual({ name: 'ringkv', key: 'cluster-secret' });
    const role = byKind('Role')[0] as unknown as { rules: Array<{ resources: string[]; resourceNames: string[]; verbs: string[] }> };
    expect(role.rules[0]).toMatchObject({ resources: ['statefulsets'], resourceNames: [set.metadata.name], verbs: ['get'] });
    expect(spec.template.spec.serviceAccountName).toBe(byKind('ServiceAccount')[0]!.metadata.name);
    expect(byKind('PodDisruptionBudget')[0]!.spec.maxUnavailable).toBe(1);
  });
});

describe('preStop decisions', () => {
  it('reads the ordinal and set from a StatefulSet pod name', () => {
    expect(podOrdinal('ringkv-2')).toBe(2);
    expect(statefulSetOf('ringkv-2')).toBe('ringkv');
    expect(statefulSetOf('my-ringkv-10')).toBe('my-ringkv');
    expect(podOrdinal('ringkv')).toBeUndefined();
  });
  it('leaves only when scaled away', () => {
    expect(scaledAway(3, 3)).toBe(true);
    expect(scaledAway(2, 3)).toBe(false);
    expect(scaledAway(0, 1)).toBe(false);
  });
  it('is done when every answering member has nothing moving, after a move or the gossip delay', () => {
    expect(leaveFinished([0, 0], true, 100, 5000)).toBe(true);
    expect(leaveFinished([0, 0], false, 100, 5000)).toBe(false);
    expect(leaveFinished([0, 0], false, 6000, 5000)).toBe(true);
    expect(leaveFinished([0, 12], true, 6000, 5000)).toBe(false);
    expect(leaveFinished([undefined, 0], true, 100, 5000)).toBe(true);
    expect(leaveFinished([undefined, undefined], true, 9000, 5000)).toBe(false);
  });
});
