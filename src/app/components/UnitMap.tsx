/**
 * A layers × units picture (heads or FFN channels): each cell coloured by its selection score,
 * selected units drawn in the accent colour. Clicking a row picks that layer; arrow keys move it.
 * "Show the numbers" lists each layer's selected units and their scores: the picture as text.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { NumbersDetails } from './ChartNumbers';
import { colourFor, sequentialScale } from './colour';

export interface UnitMapProps {
  /** scores[layer][unit]; null when the strategy has none (random). */
  scores: number[][] | null;
  /** selected[layer] = unit indices. */
  selected: number[][];
  units: number;
  unitName: string;
  label: string;
  cellWidth: number;
  cellHeight: number;
  layer: number;
  onLayer: (layer: number) => void;
  testId: string;
}

const SELECTED: [number, number, number] = [230, 120, 20];
const NO_SCORE: [number, number, number] = [214, 220, 227];

export function UnitMap({
  scores,
  selected,
  units,
  unitName,
  label,
  cellWidth,
  cellHeight,
  layer,
  onLayer,
  testId,
}: UnitMapProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string | null>(null);
  const layers = selected.length;
  const width = units * cellWidth;
  const height = layers * cellHeight;

  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    const scale = sequentialScale(scores?.flat() ?? []);
    const range = scale.kind === 'sequential' ? scale.max - scale.min : 1;
    context.clearRect(0, 0, width, height);
    for (let l = 0; l < layers; l++) {
      const picked = new Set(selected[l]);
      for (let u = 0; u < units; u++) {
        const base = scores ? colourFor(scores[l][u], scale, range) : NO_SCORE;
        const [r, g, b] = picked.has(u) ? SELECTED : base;
        context.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
        const gap = cellWidth >= 6 ? 1 : 0;
        context.fillRect(u * cellWidth, l * cellHeight, cellWidth - gap, cellHeight - 1);
      }
    }
    context.strokeStyle = '#1b1f24';
    context.lineWidth = 2;
    context.strokeRect(1, layer * cellHeight + 1, width - 2, cellHeight - 2);
  }, [scores, selected, units, layers, cellWidth, cellHeight, width, height, layer]);

  const cellAt = (event: MouseEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const u = Math.min(units - 1, Math.floor(((event.clientX - box.left) / box.width) * units));
    const l = Math.min(layers - 1, Math.floor(((event.clientY - box.top) / box.height) * layers));
    return { l, u };
  };
  const onKey = (event: KeyboardEvent) => {
    const next = event.key === 'ArrowDown' ? layer + 1 : event.key === 'ArrowUp' ? layer - 1 : null;
    if (next === null || next < 0 || next >= layers) return;
    event.preventDefault();
    onLayer(next);
  };
  const count = selected.reduce((n, s) => n + s.length, 0);
  return (
    <figure className="unit-map" data-testid={testId} data-selected={count}>
      <canvas
        ref={canvas}
        width={width}
        height={height}
        style={{ height }} // rows keep their height when a wide strip is scaled to the page (styles.css)
        role="slider"
        tabIndex={0}
        aria-label={`${label}: ${count} ${unitName}s selected; layer ${layer} shown below (arrow keys change it)`}
        aria-valuemin={0}
        aria-valuemax={layers - 1}
        aria-valuenow={layer}
        onKeyDown={onKey}
        onClick={(e) => onLayer(cellAt(e).l)}
        onMouseMove={(e) => {
          const { l, u } = cellAt(e);
          const score = scores ? `, score ${scores[l][u].toPrecision(3)}` : '';
          setHover(`layer ${l}, ${unitName} ${u}${score}${selected[l].includes(u) ? ', selected' : ''}`);
        }}
        onMouseLeave={() => setHover(null)}
      />
      <figcaption>
        <span>{label}</span>
        <span className="heatmap-hover" aria-live="polite">
          {hover ?? '\u00a0'}
        </span>
      </figcaption>
      <UnitNumbers label={label} unitName={unitName} selected={selected} scores={scores} />
    </figure>
  );
}

/** The selected units of every layer as a table, built only while open (a 30-layer strip has thousands). */
function UnitNumbers({
  label,
  unitName,
  selected,
  scores,
}: Pick<UnitMapProps, 'label' | 'unitName' | 'selected' | 'scores'>) {
  return (
    <NumbersDetails label={label}>
      {() => (
        <table className="compare" data-testid="unit-numbers">
          <caption className="visually-hidden">
            {label}: selected {unitName}s by layer
          </caption>
          <thead>
            <tr>
              <th scope="col">Layer</th>
              <th scope="col">Selected {unitName}s</th>
              {scores && <th scope="col">Their scores</th>}
            </tr>
          </thead>
          <tbody>
            {selected.map((units, l) => (
              <tr key={l}>
                <th scope="row">{l}</th>
                <td>{units.length === 0 ? 'none' : units.join(', ')}</td>
                {scores && <td>{units.map((u) => scores[l][u].toPrecision(3)).join(', ')}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </NumbersDetails>
  );
}
