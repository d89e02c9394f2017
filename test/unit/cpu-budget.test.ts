import assert from 'node:assert/strict';
import { cgroupCpuQuota, cpuBudget, type FileReader } from '../../lib/util/cpu-budget.js';

/** A fake /proc and /sys/fs/cgroup. */
const files = (entries: Record<string, string>): FileReader => (file) => entries[file];
const V2 = (cpuMax: Record<string, string>, self = '/job/step') =>
  files({ '/proc/self/cgroup': `0::${self}\n`, ...Object.fromEntries(Object.entries(cpuMax).map(([dir, value]) => [`/sys/fs/cgroup${dir === '/' ? '' : dir}/cpu.max`, value])) });

describe('the default thread count respects what the job may use', () => {
  describe('cgroup CPU quota', () => {
    const cases: [string, FileReader, number | undefined][] = [
      ['no cgroup file (not Linux)', files({}), undefined],
      ['v2 without a limit', V2({ '/job/step': 'max 100000\n', '/job': 'max 100000', '/': 'max 100000' }), undefined],
      ['v2, 2 CPUs on the process cgroup', V2({ '/job/step': '200000 100000\n' }), 2],
      ['v2, a parent limit of 1.5 CPUs is the tighter one', V2({ '/job/step': '400000 100000', '/job': '150000 100000' }), 1.5],
      ['v2 in a container (cgroup namespace root)', V2({ '/': '300000 100000' }, '/'), 3],
      [
        'v1, 3 CPUs (cpu,cpuacct mount)',
        files({ '/proc/self/cgroup': '4:cpu,cpuacct:/slurm/job1\n3:memory:/slurm/job1\n', '/sys/fs/cgroup/cpu,cpuacct/slurm/job1/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu,cpuacct/slurm/job1/cpu.cfs_period_us': '100000\n' }),
        3,
      ],
      ['v1 without a quota (-1)', files({ '/proc/self/cgroup': '2:cpu:/\n', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }), undefined],
    ];
    for (const [what, read, quota] of cases) it(what, () => assert.equal(cgroupCpuQuota(read), quota));
  });

  describe('the order of the settings', () => {
    const quota2 = V2({ '/job/step': '200000 100000' });
    const cases: [string, NodeJS.ProcessEnv, FileReader, number, string, number][] = [
      ['DAS_NUM_THREADS first', { DAS_NUM_THREADS: '5', OMP_NUM_THREADS: '3', SLURM_CPUS_PER_TASK: '2' }, quota2, 5, 'DAS_NUM_THREADS', 2],
      ['then OMP_NUM_THREADS', { OMP_NUM_THREADS: '3', SLURM_CPUS_PER_TASK: '2' }, quota2, 3, 'OMP_NUM_THREADS', 2],
      ['OMP_NUM_THREADS as a nested list takes its first level', { OMP_NUM_THREADS: '4,2' }, files({}), 4, 'OMP_NUM_THREADS', 16],
      ['a malformed OMP_NUM_THREADS is passed over', { OMP_NUM_THREADS: 'lots', SLURM_CPUS_PER_TASK: '6' }, files({}), 6, 'SLURM_CPUS_PER_TASK', 16],
      ['then SLURM_CPUS_PER_TASK', { SLURM_CPUS_PER_TASK: '6' }, quota2, 6, 'SLURM_CPUS_PER_TASK', 2],
      ['then the cgroup quota, rounded down', {}, V2({ '/job/step': '250000 100000' }), 2, 'cgroup CPU quota', 2],
      ['a quota under one CPU still gives one thread', {}, V2({ '/job/step': '50000 100000' }), 1, 'cgroup CPU quota', 1],
      ['a quota above the CPUs of the affinity mask does not count', {}, V2({ '/job/step': '6400000 100000' }), 16, 'available CPUs', 16],
      ['else the available CPUs', { DAS_NUM_THREADS: '' }, files({}), 16, 'available CPUs', 16],
    ];
    for (const [what, env, read, threads, source, usable] of cases) {
      it(what, () => assert.deepEqual((({ threads: t, source: s, usable: u }) => [t, s, u])(cpuBudget(env, read, 16)), [threads, source, usable]));
    }

    it('a malformed DAS_NUM_THREADS (ours) is an error', () => {
      for (const bad of ['0', '-2', '1.5', 'four']) assert.throws(() => cpuBudget({ DAS_NUM_THREADS: bad }, files({}), 4), /Expected a positive integer for DAS_NUM_THREADS/);
    });
  });
});
