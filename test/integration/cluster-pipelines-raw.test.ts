/**
 * Goal: raw RESP pipelines, written in one write to a slot's owner, get Redis 7.0's replies on a
 * cluster at DEFAULT settings (cluster-node-timeout 15000, appendfsync always, so every write waits
 * for its group commit while later commands of the same write are already parsed). Method: a real
 * 3-node cluster; the cases of test/helpers/raw-pipeline-cases.ts and raw-edge-cases.ts (each
 * states its goal and method), whose expectations pipeline-reference.test.ts checks against a
 * Redis 7 cluster and a standalone redis-server.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { rawEdgeCases } from '../helpers/raw-edge-cases.js';
import { rawPipelineCases } from '../helpers/raw-pipeline-cases.js';
import { ownerTarget } from '../helpers/raw-targets.js';
import { slotMap, type SlotMap } from '../helpers/slot-map.js';
import { pipelineSeed } from '../helpers/string-model.js';

const seed = pipelineSeed();

describe('raw RESP pipelines to the slot owner, cluster at default settings', () => {
  let c: TestCluster;
  let slots: SlotMap;
  beforeAll(async () => {
    c = await startCluster(3, ['--cluster-node-timeout', '15000', '--appendfsync', 'always']);
    slots = await slotMap(c.ports[0]!);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  for (const rawCase of [...rawPipelineCases, ...rawEdgeCases]) {
    it.skipIf(rawCase.kinds !== undefined && !rawCase.kinds.includes('owner'))(rawCase.name, async () => {
      await rawCase.run(ownerTarget(slots, c.ports), seed);
    }, 180000);
  }
});
