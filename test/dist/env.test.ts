import assert from 'node:assert/strict';
import { withoutNproc } from '../../lib/cli/dist-flags.js';
import { EpochSampler } from '../../lib/data/sampler.js';
import { distEnvFrom } from '../../lib/dist/env.js';
import { expandHostList, firstHost } from '../../lib/dist/hostlist.js';
import { chooseBackend, rankDevice } from '../../lib/dist/preflight.js';
import { DasError } from '../../lib/errors.js';
import { batchPlan } from '../../lib/train/runs.js';

const torchrun = (rank: number, extra: Record<string, string> = {}) => ({ RANK: String(rank), WORLD_SIZE: '4', LOCAL_RANK: String(rank % 2), LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'node01', MASTER_PORT: '29500', ...extra });
const slurmStep = (procid: number, extra: Record<string, string> = {}) => ({
  SLURM_PROCID: String(procid), SLURM_LOCALID: String(procid % 4), SLURM_NTASKS: '8', SLURM_STEP_NUM_TASKS: '8', SLURM_STEP_ID: '0',
  SLURM_JOB_ID: '123456', SLURM_STEP_NODELIST: 'gpu[07-08]', SLURM_JOB_NODELIST: 'gpu[07-08],login1', ...extra,
});
const rejects = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(() => distEnvFrom(env), (e: unknown) => e instanceof DasError && e.code === 'DAS_INVALID_ARGUMENT' && pattern.test(e.message));

describe('data parallel: the job from the environment (pure)', () => {
  describe('SLURM host lists', () => {
    const cases: [string, string[]][] = [
      ['node01', ['node01']],
      ['node[01-04,07]', ['node01', 'node02', 'node03', 'node04', 'node07']],
      ['node[8-11]', ['node8', 'node9', 'node10', 'node11']],
      ['login1,node[3-4],gpu[007-008]', ['login1', 'node3', 'node4', 'gpu007', 'gpu008']],
      ['rack[1-2]-n[0-1]', ['rack1-n0', 'rack1-n1', 'rack2-n0', 'rack2-n1']],
      ['a[9-10].cluster.org', ['a9.cluster.org', 'a10.cluster.org']],
    ];
    for (const [list, hosts] of cases) it(`expands ${list}`, () => assert.deepEqual(expandHostList(list), hosts));
    it('takes the first host as the master', () => assert.equal(firstHost('gpu[12-15,20],cpu1'), 'gpu12'));
    for (const bad of ['node[01-04', 'node01-04]', 'node[a-b]', 'node[4-2]', 'a,,b', 'x[[1]]']) {
      it(`refuses ${bad}`, () => assert.throws(() => expandHostList(bad), (e: unknown) => e instanceof DasError && e.code === 'DAS_INVALID_ARGUMENT'));
    }
  });

  describe('torchrun variables', () => {
    it('reads every rank of a 2 x 2 job', () => {
      for (let rank = 0; rank < 4; rank++) {
        assert.deepEqual(distEnvFrom(torchrun(rank)).env, { rank, worldSize: 4, localRank: rank % 2, localWorldSize: 2, masterAddr: 'node01', masterPort: 29500, source: 'torchrun' });
      }
    });
    it('under torchrun\'s agent store: every rank connects to it, with the keys of the current restart', () => {
      const env = distEnvFrom(torchrun(0, { TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '2' })).env!;
      assert.deepEqual(env.agentStore, { prefix: '/worker/attempt_2/' });
      assert.equal(distEnvFrom(torchrun(0)).env!.agentStore, undefined);
    });
    it('no variables, or a world of one: a single process', () => {
      assert.deepEqual(distEnvFrom({}), {});
      assert.deepEqual(distEnvFrom({ RANK: '0', WORLD_SIZE: '1' }), {});
    });
    it('names what is missing or out of range', () => {
      rejects({ RANK: '1' }, /RANK is set but not WORLD_SIZE/);
      rejects({ WORLD_SIZE: '2', LOCAL_RANK: '0' }, /not RANK/);
      rejects(torchrun(4), /RANK but received "4"/);
      rejects(torchrun(1, { WORLD_SIZE: 'two' }), /WORLD_SIZE but received "two"/);
      rejects(torchrun(1, { MASTER_ADDR: '' }), /MASTER_ADDR is not set/);
      rejects({ ...torchrun(1), MASTER_PORT: '70000' }, /1\.\.65535 for MASTER_PORT/);
      rejects(torchrun(1, { LOCAL_RANK: '' }), /LOCAL_RANK is not set/);
      rejects(torchrun(1, { LOCAL_RANK: '2' }), /LOCAL_RANK=2 is larger than RANK=1/);
      rejects(torchrun(3, { LOCAL_RANK: '2' }), /LOCAL_RANK=2 is not below LOCAL_WORLD_SIZE=2/);
      rejects(torchrun(3, { LOCAL_WORLD_SIZE: '8' }), /LOCAL_WORLD_SIZE=8 is larger than WORLD_SIZE=4/);
    });
  });

  describe('SLURM variables', () => {
    it('rank, world and local rank from the step; the master is the first node; the port follows the job id', () => {
      assert.deepEqual(distEnvFrom(slurmStep(5)).env, { rank: 5, worldSize: 8, localRank: 1, masterAddr: 'gpu07', masterPort: 20000 + (123456 % 10000), source: 'slurm' });
    });
    it('MASTER_ADDR and MASTER_PORT override the node list and the default port', () => {
      const env = distEnvFrom(slurmStep(2, { MASTER_ADDR: '10.0.0.5', MASTER_PORT: '31000' })).env!;
      assert.equal(env.masterAddr, '10.0.0.5');
      assert.equal(env.masterPort, 31000);
    });
    it('the job node list when the step has none', () => {
      const { SLURM_STEP_NODELIST: _, ...env } = slurmStep(0);
      assert.equal(distEnvFrom(env).env!.masterAddr, 'gpu07');
    });
    it('a batch script outside srun runs as one process, with a warning', () => {
      const result = distEnvFrom({ SLURM_PROCID: '0', SLURM_LOCALID: '0', SLURM_NTASKS: '8', SLURM_JOB_ID: '7', SLURM_JOB_NODELIST: 'n[1-2]' });
      assert.equal(result.env, undefined);
      assert.match(result.warning!, /batch script \(SLURM_NTASKS=8, but no srun step\)/);
    });
    it('torchrun inside srun: torchrun\'s variables win', () => {
      const env = distEnvFrom({ ...slurmStep(1, { SLURM_STEP_NUM_TASKS: '2' }), ...torchrun(3) }).env!;
      assert.equal(env.source, 'torchrun');
      assert.equal(env.rank, 3);
    });
    it('refuses RANK inherited by every task of a step', () => {
      rejects({ ...slurmStep(3, { SLURM_STEP_NUM_TASKS: '4' }), ...torchrun(0) }, /RANK=0 but SLURM_PROCID=3 in a step of 4 tasks/);
    });
    it('refuses inconsistent SLURM variables', () => {
      rejects(slurmStep(9), /SLURM_PROCID/);
      rejects(slurmStep(1, { SLURM_LOCALID: '3' }), /SLURM_LOCALID=3 is larger than SLURM_PROCID=1/);
      rejects(slurmStep(1, { SLURM_STEP_NODELIST: 'gpu[07-' }), /balanced brackets/);
    });
  });

  describe('devices and backends', () => {
    it('cuda means the GPU of the local rank, or the only one visible', () => {
      assert.equal(rankDevice('cuda', 3, 4), 'cuda:3');
      assert.equal(rankDevice('cuda', 3, 1), 'cuda:0');
      assert.equal(rankDevice('cuda:2', 0, 4), 'cuda:2');
      assert.equal(rankDevice('cpu', 1, 0), 'cpu');
      assert.throws(() => rankDevice('cuda', 4, 2), /LOCAL_RANK 4 has no GPU of its own: this machine shows 2/);
    });
    it('nccl for CUDA when built, gloo otherwise; an explicit choice is checked', () => {
      assert.equal(chooseBackend('cuda:0', ['gloo', 'nccl']), 'nccl');
      assert.equal(chooseBackend('cuda:0', ['gloo']), 'gloo');
      assert.equal(chooseBackend('cpu', ['gloo', 'nccl']), 'gloo');
      assert.equal(chooseBackend('cuda:1', ['gloo', 'nccl'], 'gloo'), 'gloo');
      assert.throws(() => chooseBackend('cpu', ['gloo', 'nccl'], 'nccl'), /nccl backend needs a CUDA device/);
      assert.throws(() => chooseBackend('cuda:0', ['gloo'], 'nccl'), /no nccl backend \(it has: gloo\)/);
      assert.throws(() => chooseBackend('cpu', ['gloo'], 'mpi'), /gloo or nccl for --dist-backend/);
    });
  });

  describe('batches over ranks', () => {
    const vqa = { batchSize: 32, effectiveBatch: 256 };
    it("the task's effective batch stays whatever the world size", () => {
      assert.deepEqual(batchPlan(vqa, 1), { batchSize: 32, accumulation: 8 });
      assert.deepEqual(batchPlan(vqa, 8), { batchSize: 32, accumulation: 1 });
      assert.deepEqual(batchPlan(vqa, 16), { batchSize: 16, accumulation: 1 });
      assert.deepEqual(batchPlan({ batchSize: 32, effectiveBatch: 128 }, 3, undefined, 96), { batchSize: 32, accumulation: 1 });
      assert.throws(() => batchPlan(vqa, 6), /a multiple of the 6 ranks .* for effective batch but received 256/);
    });
    it('--batch-size is per rank; the effective batch counts every rank', () => {
      assert.deepEqual(batchPlan(vqa, 4, 16), { batchSize: 16, accumulation: 4 });
      assert.deepEqual(batchPlan(vqa, 2, 8, 64), { batchSize: 8, accumulation: 4 });
      assert.throws(() => batchPlan(vqa, 3, 32), /a multiple of the batch size 32 x 3 ranks = 96/);
    });
  });

  describe('sharded epochs', () => {
    const epoch = (sampler: EpochSampler) => Array.from({ length: sampler.batchesPerEpoch }, () => sampler.next().indices).flat();
    it('training: every rank a disjoint stride of the same permutation, padded to equal length', () => {
      const single = epoch(new EpochSampler(10, 2, { seed: 3 }));
      const shards = [0, 1, 2].map((rank) => epoch(new EpochSampler(10, 2, { seed: 3, shard: { rank, count: 3, pad: true } })));
      for (const shard of shards) assert.equal(shard.length, 4);
      const padded = [...single, ...single.slice(0, 2)];
      shards.forEach((shard, rank) => assert.deepEqual(shard, padded.filter((_, i) => i % 3 === rank)));
    });
    it('evaluation: no padding, every example exactly once', () => {
      const shards = [0, 1, 2].map((rank) => epoch(new EpochSampler(10, 4, { shuffle: false, shard: { rank, count: 3, pad: false } })));
      assert.deepEqual(shards.map((s) => s.length), [4, 3, 3]);
      assert.deepEqual(shards.flat().sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
      assert.equal(new EpochSampler(2, 4, { shard: { rank: 2, count: 3, pad: false } }).batchesPerEpoch, 0);
    });
    it('refuses a rank outside the shards', () => {
      assert.throws(() => new EpochSampler(10, 2, { shard: { rank: 3, count: 3, pad: true } }), /shard rank/);
    });
  });

  it('the launcher gives each rank the command line without --nproc-per-node', () => {
    assert.deepEqual(withoutNproc(['train', '--nproc-per-node', '4', '--json', '--nproc-per-node=2', '--seed', '1']), ['train', '--json', '--seed', '1']);
  });
});
