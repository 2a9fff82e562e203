// The import graph's rules that a lint rule cannot see file by file (ARCHITECTURE.md "Layers"):
// no import cycles anywhere, type-only imports included; and the studio page (src/app) reaches no
// tfjs through its imports, so the core modules it uses are the pure ones and tfjs stays in the
// worker's bundle. A small cycle and a small reach are built by hand to show the checks can fail.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importGraph, reachableByValue, type ImportEdge } from './importGraph';

const root = fileURLToPath(new URL('..', import.meta.url));
const graph = importGraph(root);

describe('import graph', () => {
  it('reads the project: every layer has files and imports', () => {
    for (const layer of ['src/core/', 'src/app/', 'src/cli/', 'workers/', 'bench/', 'scripts/', 'test/', 'e2e/'])
      expect(
        graph.edges.some((e) => e.from.startsWith(layer)),
        layer,
      ).toBe(true);
    console.log(`import graph: ${graph.files.length} files, ${graph.edges.length} imports`);
  });

  it('has no cycle, type-only imports included', () => {
    const probe: ImportEdge[] = [
      { from: 'a.ts', to: 'b.ts', typeOnly: false },
      { from: 'b.ts', to: 'c.ts', typeOnly: true },
      { from: 'c.ts', to: 'a.ts', typeOnly: false },
      { from: 'c.ts', to: 'd.ts', typeOnly: false },
    ];
    expect(cycles(probe)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(cycles(graph.edges)).toEqual([]);
  });

  it('the studio page reaches no tfjs through its imports', () => {
    expect(
      reachableByValue(
        [
          { from: 'p.ts', to: 'q.ts', typeOnly: false },
          { from: 'q.ts', to: '@tensorflow/tfjs', typeOnly: false },
        ],
        ['p.ts'],
      ).has('@tensorflow/tfjs'),
    ).toBe(true);
    const page = graph.files.filter((f) => f.startsWith('src/app/') && !f.endsWith('.test.ts'));
    const reached = reachableByValue(graph.edges, page);
    const tfjs = graph.edges.filter((e) => reached.has(e.from) && !e.typeOnly && e.to.startsWith('@tensorflow/'));
    expect(tfjs.map((e) => `${e.from} -> ${e.to}`)).toEqual([]);
  });
});
