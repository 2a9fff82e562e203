/** Test fixture: an S²FT adapter with random deltas for a given selection on a model config. */
import type { ModelConfig } from '../../model/types';
import { adapterDims, blockShape, type S2ftAdapter } from '../adapter';
import type { AdapterBlock, BlockModule, Selection } from '../types';

/** Deterministic uniform values in [-scale, scale). */
export function randomValues(n: number, seed: number, scale = 0.1): Float32Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/** Original column / row indices a selection trains in one module. */
export function selectionIndices(config: ModelConfig, module: BlockModule, sel: Selection['layers'][number]): number[] {
  const hd = config.headDim;
  const units = (heads: number[]) => heads.flatMap((h) => Array.from({ length: hd }, (_, d) => h * hd + d));
  switch (module) {
    case 'o_proj':
      return units(sel.heads);
    case 'down_proj':
      return sel.channels;
    case 'v_proj':
      return units(sel.vHeads ?? []);
    case 'up_proj':
      return sel.upChannels ?? [];
  }
}

export function randomAdapter(
  config: ModelConfig,
  selection: Selection,
  seed: number,
  name = 'tiny-base',
  fingerprint = 'fp-base',
): S2ftAdapter {
  const dims = adapterDims(config);
  const blocks: AdapterBlock[] = [];
  const modules: BlockModule[] = ['o_proj', 'down_proj', 'v_proj', 'up_proj'];
  selection.layers.forEach((sel, layer) => {
    for (const module of modules) {
      const indices = selectionIndices(config, module, sel);
      if (indices.length === 0) continue;
      const shape = blockShape(dims, module, indices.length);
      const axis = module === 'o_proj' || module === 'down_proj' ? 'columns' : 'rows';
      blocks.push({
        layer,
        module,
        axis,
        indices: Int32Array.from(indices),
        shape,
        delta: randomValues(shape[0] * shape[1], seed * 31 + blocks.length),
      });
    }
  });
  return {
    info: {
      baseModel: { name, fingerprint },
      targetModules: [...new Set(blocks.map((b) => b.module))],
      selection: { strategy: 'random', seed },
      training: { optimizer: 'adamw', lr: 1e-3, steps: 1 },
      dims,
    },
    blocks,
  };
}
