/**
 * A matrix drawn on a canvas, one pixel per cell, scaled up by CSS: fast for weights with a
 * million entries. Optional outlines (e.g. S²FT's dense trainable block) and marked columns or
 * rows sit on top; hovering reports the cell under the pointer to the caller, who words it.
 */
import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { colourFor, type ColourScale } from './colour';

/** A rectangle of cells, half-open: columns [col0, col1) × rows [row0, row1). */
export interface CellRect {
  col0: number;
  col1: number;
  row0: number;
  row1: number;
  label?: string;
}

export interface HeatmapProps {
  /** Row-major values, rows × cols. */
  values: Float32Array;
  rows: number;
  cols: number;
  scale: ColourScale;
  /** Accessible name: what the picture shows. */
  label: string;
  /** Columns (or rows) to mark with a tick under (beside) the map, e.g. the selected units. */
  markedCols?: ReadonlySet<number>;
  markedRows?: ReadonlySet<number>;
  outlines?: readonly CellRect[];
  /** Words for the cell under the pointer; shown below the map. */
  describe?: (row: number, col: number) => string;
  /** Display size in CSS pixels; the aspect ratio follows the matrix unless both are given. */
  width?: number;
  height?: number;
  testId?: string;
}

export function Heatmap({
  values,
  rows,
  cols,
  scale,
  label,
  markedCols,
  markedRows,
  outlines = [],
  describe,
  width = 320,
  height,
  testId,
}: HeatmapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string | null>(null);
  const displayHeight = height ?? Math.max(8, Math.round((width * rows) / cols));

  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context || rows === 0 || cols === 0) return;
    const image = context.createImageData(cols, rows);
    const range = scale.kind === 'diverging' ? scale.limit : scale.max - scale.min;
    for (let i = 0; i < rows * cols; i++) {
      const [r, g, b] = colourFor(values[i], scale, range);
      image.data[4 * i] = r;
      image.data[4 * i + 1] = g;
      image.data[4 * i + 2] = b;
      image.data[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }, [values, rows, cols, scale]);

  const onMove = (event: MouseEvent<HTMLCanvasElement>) => {
    if (!describe) return;
    const box = event.currentTarget.getBoundingClientRect();
    const col = Math.min(cols - 1, Math.max(0, Math.floor(((event.clientX - box.left) / box.width) * cols)));
    const row = Math.min(rows - 1, Math.max(0, Math.floor(((event.clientY - box.top) / box.height) * rows)));
    setHover(describe(row, col));
  };

  const pct = (n: number, of: number) => `${(100 * n) / of}%`;
  return (
    <figure className="heatmap" data-testid={testId} data-rows={rows} data-cols={cols}>
      <div className="heatmap-frame" style={{ width, height: displayHeight }}>
        <canvas
          ref={canvas}
          width={cols}
          height={rows}
          role="img"
          aria-label={label}
          style={{ width, height: displayHeight }}
          onMouseMove={onMove}
          onMouseLeave={() => setHover(null)}
        />
        {outlines.map((o, i) => (
          <div
            key={i}
            className="heatmap-outline"
            data-testid={testId ? `${testId}-outline` : undefined}
            title={o.label}
            style={{
              left: pct(o.col0, cols),
              width: pct(o.col1 - o.col0, cols),
              top: pct(o.row0, rows),
              height: pct(o.row1 - o.row0, rows),
            }}
          />
        ))}
        {markedCols &&
          [...markedCols].map((c) => (
            <div
              key={`c${c}`}
              className="heatmap-mark heatmap-mark-col"
              style={{ left: pct(c, cols), width: pct(1, cols) }}
            />
          ))}
        {markedRows &&
          [...markedRows].map((r) => (
            <div
              key={`r${r}`}
              className="heatmap-mark heatmap-mark-row"
              style={{ top: pct(r, rows), height: pct(1, rows) }}
            />
          ))}
      </div>
      {/* As wide as the map, so long captions wrap instead of pushing the views apart. */}
      <figcaption style={{ maxWidth: width }}>
        <span>{label}</span>
        {outlines.length > 0 && <span className="muted">Outlined: {outlineSummary(outlines)}</span>}
        <span className="heatmap-hover" aria-live="polite" data-testid={testId ? `${testId}-hover` : undefined}>
          {hover ?? '\u00a0'}
        </span>
      </figcaption>
    </figure>
  );
}

/** The outlines in words, the first few named: "trainable heads at positions 0–1; …". */
function outlineSummary(outlines: readonly CellRect[]): string {
  const named = outlines.slice(0, 3).map((o, i) => o.label ?? `block ${i + 1}`);
  const more = outlines.length - named.length;
  return `${named.join('; ')}${more > 0 ? `; and ${more} more block${more === 1 ? '' : 's'}` : ''}.`;
}
