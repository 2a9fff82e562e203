/**
 * Writes test checkpoints in real models' shapes with random weights into test-checkpoints/
 * (git-ignored; never commit them):
 *   npx tsx scripts/realShapes/main.ts [name ...] [--layers N]
 * Names are those of shapes.ts (default: all); --layers N keeps the width and vocabulary and
 * writes N layers (directory <name>-<N>layers), for the e2e specs.
 */
import { join } from 'node:path';
import { CHECKPOINTS_DIR, REAL_SHAPES, withLayers } from './shapes';
import { writeRealShape } from './write';

const args = process.argv.slice(2);
const at = args.indexOf('--layers');
const layers = at >= 0 ? Number(args.splice(at, 2)[1]) : null;
if (layers !== null && !(Number.isInteger(layers) && layers > 0)) throw new Error('--layers needs a positive integer');
const unknown = args.filter((a) => !REAL_SHAPES.some((s) => s.name === a));
if (unknown.length) throw new Error(`unknown shape ${unknown[0]}; known: ${REAL_SHAPES.map((s) => s.name).join(', ')}`);
for (const base of REAL_SHAPES.filter((s) => args.length === 0 || args.includes(s.name))) {
  const shape = layers === null ? base : withLayers(base, layers);
  const started = performance.now();
  const dir = await writeRealShape(shape, join(CHECKPOINTS_DIR, shape.name));
  console.log(`${dir} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
