/**
 * Issue 18 "Must show" 1: the recipe across machines. recipe/README.md's `test:node` command, exactly as
 * written, runs on two hosts at once (two torchrun launchers, `--nnodes 2`, `--node_rank` 0 and 1, one
 * process each, c10d rendezvous), each in its own copy of the exported run, as two machines would. As
 * root the hosts are two network namespaces joined by a veth pair (recipe/testing/twoHosts.ts), so the
 * rendezvous and gloo's all-reduce cross an interface; otherwise both run on loopback. The test prints
 * which ran.
 *
 * The two-host adapter equals the one-process run (the README's `python3 train.py`) within 1e-5
 * relative, and that equals the studio's `train` of the same run (SGD with weight decay, warm-up, linear
 * schedule, --seq-len) within 1e-5. SGD, because its update is linear in the gradient: AdamW divides each
 * gradient element by its own RMS, which turns float32 summation differences of a small, cancelling
 * gradient element into 1e-5-sized update differences between torch and the studio (measured up to 1.0e-5).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomIds, tinyConfig } from '../src/core/model/testing/tinyModels';
import { writeSelectionFile } from '../src/core/s2ft/selectionFile';
import {
  cli,
  freePort,
  python,
  pythonBin,
  readAdapter,
  relDiff,
  ROOT,
  runBlock,
  sh,
  shAsync,
  studioCheckpoint,
  testedBlocks,
  writeRows,
} from './testing/harness';
import { openTwoHosts } from './testing/twoHosts';

const README = path.join(ROOT, 'recipe/README.md');

describe.skipIf(!python)('the recipe on two machines', () => {
  let tmp: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(path.join(tmpdir(), 'recipe-multinode-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('two torchrun launchers (--nnodes 2, c10d) give the one-process adapter, which is the studio’s', async () => {
    const config = tinyConfig({ modelType: 'qwen2', attentionBias: true }); // GQA 4 heads / 2 kv, q/k/v biases
    const base = await studioCheckpoint(path.join(tmp, 'tiny-qwen2'), config, 5);
    const selection = path.join(tmp, 'selection.json');
    writeFileSync(
      selection,
      writeSelectionFile({
        layers: [
          { heads: [1], channels: [3, 40], vHeads: [0] },
          { heads: [0, 2], channels: [9] },
        ],
      }),
    );
    const data = path.join(tmp, 'rows.jsonl');
    writeRows(
      data,
      [13, 9, 11, 6, 12, 10, 8, 13].map((n, i) => randomIds(1, n, config.vocabSize, 70 + i)[0]),
    );
    const flags = [
      '--model',
      base,
      '--data',
      data,
      '--method',
      's2ft',
      '--selection',
      selection,
      '--optimizer',
      'sgd',
      '--lr',
      '0.5',
      '--weight-decay',
      '0.1',
      '--schedule',
      'linear',
      '--warmup',
      '1',
      '--steps',
      '3',
      '--batch-size',
      '4',
      '--seq-len',
      '8',
      '--seed',
      '2',
    ];
    const studioOut = path.join(tmp, 'studio.safetensors');
    await cli('train', [...flags, '--out', studioOut]);
    const run = path.join(tmp, 'run');
    await cli('export-recipe', [...flags, '--out', run]);

    const bin = pythonBin(path.join(tmp, 'bin'));
    const env = (extra: Record<string, string>) => ({
      PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: tmp,
      BASE: base,
      OMP_NUM_THREADS: '1',
      ...extra,
    });
    const [oneProcess] = testedBlocks(README, 'training');
    const [nodeBlock] = testedBlocks(README, 'node');
    expect(nodeBlock).toMatch(/--nnodes 2 .*--node_rank "\$NODE_RANK"/);
    expect(nodeBlock).toMatch(/--rdzv_backend c10d/);

    const one = path.join(tmp, 'one');
    cpSync(run, one, { recursive: true });
    runBlock(oneProcess, one, env({}), true);

    const nodes = [0, 1].map((i) => path.join(tmp, `node${i}`));
    for (const dir of nodes) cpSync(run, dir, { recursive: true });
    const hosts = openTwoHosts();
    let results: { status: number | null; out: string }[];
    let sent: number | null;
    try {
      const port = freePort();
      results = await Promise.all(
        hosts.hosts.map((host, i) => {
          const [cmd, ...args] = host.wrap(['bash', '-euo', 'pipefail', '-c', nodeBlock]);
          return shAsync(cmd, args, {
            cwd: nodes[i],
            env: env({
              NODE_RANK: String(i),
              GPUS: '1',
              HOST0: hosts.hosts[0].address,
              PORT: port,
              RUN_ID: `s2ft-test-${process.pid}`,
            }),
            timeoutMs: 240_000,
          });
        }),
      );
      sent = hosts.sentBytes();
    } finally {
      hosts.close();
    }
    results.forEach((r, i) => {
      console.log(`node ${i}:\n${r.out}`);
      expect(r.status, `node ${i} exit status`).toBe(0);
    });

    const written = nodes.map((dir) => path.join(dir, 'adapter.safetensors')).filter((f) => existsSync(f));
    expect(written, 'exactly one node (global rank 0) writes the adapter').toHaveLength(1);
    const twoNodes = readAdapter(written[0]);
    expect(twoNodes.info.training.processes).toBe(2);
    const oneAdapter = readAdapter(path.join(one, 'adapter.safetensors'));
    expect(oneAdapter.info.training.processes).toBe(1);
    const nodesVsOne = relDiff(twoNodes, oneAdapter);
    const oneVsStudio = relDiff(oneAdapter, readAdapter(studioOut));
    console.log(
      `hosts: ${hosts.kind}${hosts.why ? ` (${hosts.why})` : ''}` +
        (sent === null ? '' : `; node 0 sent ${sent} bytes over its veth interface`) +
        `; the adapter was written by ${path.basename(path.dirname(written[0]))}\n` +
        `2 machines vs 1 process: max rel diff ${nodesVsOne.toExponential(2)}; ` +
        `1 process vs the studio (SGD, weight decay, linear schedule): ${oneVsStudio.toExponential(2)} (tol 1e-5)`,
    );
    if (hosts.kind !== 'loopback') expect(sent).toBeGreaterThan(10_000);
    expect(nodesVsOne).toBeLessThan(1e-5);
    expect(oneVsStudio).toBeLessThan(1e-5);
  }, 400_000);

  it('falls back to loopback, saying why, where network namespaces cannot be made, and leaves none behind', (ctx) => {
    // Root inside an unprivileged user namespace: uid 0, but `ip netns add` is refused.
    const unprivileged = ['unshare', '--user', '--map-root-user'];
    const can = (cmd: string[]) => spawnSync(cmd[0], cmd.slice(1)).status === 0;
    if (!can([...unprivileged, 'true']) || !can(['ip', 'netns', 'list'])) {
      console.log('SKIPPED: this machine has no user namespaces (unshare --user) or no iproute2 (ip)');
      ctx.skip();
    }
    const script = `import { openTwoHosts } from ${JSON.stringify(path.join(ROOT, 'recipe/testing/twoHosts.ts'))};
const h = openTwoHosts(); console.log(JSON.stringify({ kind: h.kind, why: h.why, pid: process.pid })); h.close();`;
    const file = path.join(tmp, 'fallback.mts');
    writeFileSync(file, script);
    const out = sh(unprivileged[0], [...unprivileged.slice(1), path.join(ROOT, 'node_modules/.bin/tsx'), file], tmp);
    const result = JSON.parse(out.trim().split('\n').pop() as string) as { kind: string; why: string; pid: number };
    console.log(`unprivileged: ${result.kind} (${result.why})`);
    expect(result.kind).toBe('loopback');
    expect(result.why).toMatch(/ip netns add|not root/);
    expect(sh('ip', ['netns', 'list'])).not.toContain(`s2r${result.pid}-`);
  });
});
