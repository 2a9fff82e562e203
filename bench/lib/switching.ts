/**
 * Adapter switching and multi-adapter serving, S²FT against LoRA (paper §6). Backend-agnostic.
 *
 * Switch: one layer's o_proj [D, D] and down_proj [D, F] (the modules S²FT trains), with an
 * S²FT adapter and a LoRA adapter of the same trainable-parameter count on each module
 * (LoRA rank r on [out, in] has r·(in + out) parameters; S²FT gets ⌊r·(in + out) / out⌋ columns).
 *   S²FT   ServingWeights.switchTo(to), what the studio serves with: W[:, J_from] = B[:, J_from],
 *          W[:, J_to] = B[:, J_to] + S_to in the serving copy's own memory on cpu/wasm (|J|·out
 *          element writes), B + S_to by gather/concat on WebGL/WebGPU (servingWeights.ts)
 *   LoRA   W ← W − s·B_from A_from + s·B_to A_to, the merge PEFT does, per module
 *
 * Serving: one base model, n adapters, a batch of n requests each using its own adapter; the
 * forward's tokens/s through fuse.ts's multiAdapterLinear (gather the request's rows and
 * columns J) against the same gather path with LoRA (rows · Aᵀ · Bᵀ scattered back).
 */
// Times are process CPU time in Node (see stopwatch), wall time in the browser.
import * as tf from '@tensorflow/tfjs';
import { defaultLinear, forward } from '../../src/core/model/llama';
import { disposeWeights, initWeights } from '../../src/core/model/init';
import type { LayerWeights, LinearFn, LlamaWeights, ModelConfig, ModuleName } from '../../src/core/model/types';
import { multiAdapterLinear, type HasBlocks } from '../../src/core/s2ft/fuse';
import type { AdapterBlock, BlockModule } from '../../src/core/s2ft/types';
import { selectUnits } from '../../src/core/s2ft/selection';
import { ServingWeights } from '../../src/core/s2ft/servingWeights';
import { prepareS2ft } from '../../src/core/train/s2ft';
import { stopwatch, sync } from './compare';
import { median } from './stats';

export interface SwitchPoint {
  hidden: number;
  intermediate: number;
  rank: number;
  s2ftMs: number;
  loraMs: number;
  ratio: number;
}

/** A seeded uniform(−0.01, 0.01) Float32Array. */
function randomArray(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761 + 1) >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.02;
  });
}

/** k sorted distinct column indices below n, seeded. */
function pickColumns(n: number, k: number, seed: number): Int32Array {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const r = randomArray(n, seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((r[i] / 0.02 + 0.5) * (i + 1)) % (i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, k).sort();
}

function s2ftAdapter(
  shapes: Record<BlockModule, [number, number]>,
  modules: BlockModule[],
  rank: number,
  seed: number,
): HasBlocks {
  const blocks: AdapterBlock[] = modules.map((module, i) => {
    const [out, inDim] = shapes[module];
    const k = Math.min(inDim, Math.floor((rank * (inDim + out)) / out));
    return {
      layer: 0,
      module,
      axis: 'columns',
      indices: pickColumns(inDim, k, seed * 31 + i),
      delta: randomArray(out * k, seed * 17 + i),
      shape: [out, k],
    };
  });
  return { blocks };
}

/** One layer holding only the switched modules (the others are never read by fuse.ts). */
function oneLayer(linear: Partial<Record<ModuleName, tf.Tensor2D>>): LlamaWeights {
  const layer = {
    inputLayernorm: tf.ones([1]),
    postAttentionLayernorm: tf.ones([1]),
    linear,
    bias: {},
  } as unknown as LayerWeights;
  return { embedTokens: [], layers: [layer], norm: tf.ones([1]) as tf.Tensor1D, lmHead: null };
}

/** Median ms of S²FT switch and LoRA merge-switch at hidden D (F = 8D/3 rounded to 64). */
export async function switchAt(D: number, rank: number, repeats: number): Promise<SwitchPoint> {
  const F = Math.round((8 * D) / 3 / 64) * 64;
  const shapes: Record<BlockModule, [number, number]> = {
    o_proj: [D, D],
    down_proj: [D, F],
    v_proj: [0, 0],
    up_proj: [0, 0],
  };
  const modules: BlockModule[] = ['o_proj', 'down_proj'];
  const W = {
    o_proj: tf.randomNormal([D, D], 0, 0.02, 'float32', 1) as tf.Tensor2D,
    down_proj: tf.randomNormal([D, F], 0, 0.02, 'float32', 2) as tf.Tensor2D,
  };
  const a = s2ftAdapter(shapes, modules, rank, 1),
    b = s2ftAdapter(shapes, modules, rank, 2);
  const lora = (seed: number) =>
    modules.map((m, i) => ({
      module: m,
      A: tf.tensor2d(randomArray(rank * shapes[m][1], seed * 13 + i), [rank, shapes[m][1]]), // [r, in]
      B: tf.tensor2d(randomArray(shapes[m][0] * rank, seed * 19 + i), [shapes[m][0], rank]), // [out, r]
    }));
  const la = lora(1),
    lb = lora(2);
  const scale = 2; // alpha / r with alpha = 2r

  const serving = new ServingWeights(oneLayer({ ...W }));
  serving.switchTo([{ adapter: a, weight: 1 }]); // the private copies, made once
  const s2ftOnce = async (to: HasBlocks): Promise<number> => {
    const elapsed = stopwatch();
    serving.switchTo([{ adapter: to, weight: 1 }]);
    await sync(serving.weights.layers[0].linear.down_proj);
    return elapsed();
  };
  let loraW: Record<string, tf.Tensor2D> = { ...W };
  const loraOnce = async (from: typeof la, to: typeof la): Promise<number> => {
    const elapsed = stopwatch();
    const next = Object.fromEntries(
      modules.map((m, i) => [
        m,
        tf.tidy(
          () =>
            tf.add(
              loraW[m],
              tf.sub(tf.mul(tf.matMul(to[i].B, to[i].A), scale), tf.mul(tf.matMul(from[i].B, from[i].A), scale)),
            ) as tf.Tensor2D,
        ),
      ]),
    ); // [out, in]
    await sync(next.down_proj);
    const ms = elapsed();
    if (loraW.o_proj !== W.o_proj) tf.dispose(Object.values(loraW));
    loraW = next;
    return ms;
  };
  const s: number[] = [],
    l: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    // the first of each is a warm-up
    const to = i % 2 === 0 ? b : a;
    const [lf, lt] = i % 2 === 0 ? [la, lb] : [lb, la];
    const sm = await s2ftOnce(to),
      lm = await loraOnce(lf, lt);
    if (i > 0) {
      s.push(sm);
      l.push(lm);
    }
  }
  serving.dispose();
  if (loraW.o_proj !== W.o_proj) tf.dispose(Object.values(loraW));
  tf.dispose([...Object.values(W), ...[...la, ...lb].flatMap((p) => [p.A, p.B])]);
  const {
    norm,
    layers: [layer],
  } = serving.base;
  tf.dispose([norm, layer.inputLayernorm, layer.postAttentionLayernorm]);
  const s2ftMs = median(s),
    loraMs = median(l);
  return { hidden: D, intermediate: F, rank, s2ftMs, loraMs, ratio: s2ftMs / loraMs };
}

export interface ServingPoint {
  adapters: number;
  tokens: number;
  baseTokensPerSec: number;
  s2ftTokensPerSec: number;
  loraTokensPerSec: number;
}

/** LoRA on the same gather path as multiAdapterLinear: each request's rows through its own A, B. */
function loraMultiLinear(
  pairs: Map<string, { A: tf.Tensor2D; B: tf.Tensor2D }>[],
  requestAdapter: number[],
  scale: number,
): LinearFn {
  const B = requestAdapter.length;
  return (x, weight, bias, site) => {
    let y = defaultLinear(x, weight, bias, site); // [N, out]
    const [N, out] = y.shape;
    const T = N / B;
    pairs.forEach((adapter, i) => {
      const p = adapter.get(`${site.layer}.${site.module}`);
      if (!p) return;
      const rows: number[] = [];
      requestAdapter.forEach((a, b) => {
        if (a === i) for (let t = 0; t < T; t++) rows.push(b * T + t);
      });
      if (rows.length === 0) return;
      const rowIdx = tf.tensor1d(rows, 'int32'); // [n]
      const upd = tf.matMul(tf.matMul(tf.gather(x, rowIdx), p.A, false, true), p.B, false, true).mul(scale); // [n, out]
      y = tf.add(y, tf.scatterND(rowIdx.reshape([rows.length, 1]), upd, [N, out])); // [N, out]
    });
    return y;
  };
}

/** Forward tokens/s of n requests (one per adapter) of T tokens: base only, S²FT and LoRA gather paths. */
export async function servingAt(
  config: ModelConfig,
  n: number,
  T: number,
  rank: number,
  repeats: number,
): Promise<ServingPoint> {
  const weights = initWeights(config, 0);
  const model = { config, weights };
  const adapters: HasBlocks[] = [];
  for (let i = 0; i < n; i++) {
    const { selection } = await selectUnits(model, { budget: { kind: 'loraRank', rank }, seed: i + 1 });
    const prepared = prepareS2ft(model, selection);
    prepared.trainable.forEach((v, j) => v.assign(tf.tensor(randomArray(v.size, 100 * i + j), v.shape)));
    adapters.push({ blocks: await prepared.blocks() });
    prepared.dispose();
  }
  const targets: ModuleName[] = ['q_proj', 'k_proj', 'v_proj', 'up_proj', 'down_proj'];
  const loraPairs = Array.from(
    { length: n },
    (_, i) =>
      new Map(
        weights.layers.flatMap((layer, l) =>
          targets.map((m, j) => {
            const [out, inDim] = layer.linear[m].shape;
            return [
              `${l}.${m}`,
              {
                A: tf.tensor2d(randomArray(rank * inDim, 1000 * i + 10 * l + j), [rank, inDim]),
                B: tf.tensor2d(randomArray(out * rank, 2000 * i + 10 * l + j), [out, rank]),
              },
            ] as const;
          }),
        ),
      ),
  );
  const requestAdapter = Array.from({ length: n }, (_, i) => i);
  const ids = tf.tensor2d(
    Int32Array.from({ length: n * T }, (_, i) => (i * 7919) % config.vocabSize),
    [n, T],
    'int32',
  ); // [n, T]
  const s2ft = multiAdapterLinear(adapters, requestAdapter);
  const lora = loraMultiLinear(loraPairs, requestAdapter, 2);
  const rate = async (linear: LinearFn): Promise<number> => {
    const times: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const elapsed = stopwatch();
      const logits = forward(model, ids, { linear }); // [n, T, V]
      await sync(logits);
      logits.dispose();
      if (i > 0) times.push(elapsed());
    }
    return (n * T) / (median(times) / 1000);
  };
  const point: ServingPoint = {
    adapters: n,
    tokens: n * T,
    baseTokensPerSec: await rate(defaultLinear),
    s2ftTokensPerSec: await rate(s2ft.linear),
    loraTokensPerSec: await rate(lora),
  };
  s2ft.dispose();
  loraPairs.forEach((m) => m.forEach((p) => tf.dispose([p.A, p.B])));
  ids.dispose();
  disposeWeights(weights);
  return point;
}
