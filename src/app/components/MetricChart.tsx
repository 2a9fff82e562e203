/**
 * One live line chart (recharts) of metrics against the training step, with an optional log
 * scale, its numbers as a table (ChartNumbers.tsx) and SVG and PNG downloads (chartImage.ts).
 * Animation is off: the data grows every frame while training, and a chart that animates each
 * update keeps the main thread busy for nothing.
 */
import { memo, useId, useRef, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { downloadBytes } from '../actions/adapters';
import { errorMessage } from '../errorMessage';
import { ChartNumbers } from './ChartNumbers';
import { chartSvgText, svgToPng } from './chartImage';
import type { ChartPoint, Series } from './chartTypes';

export interface MetricChartProps {
  title: string;
  data: readonly ChartPoint[];
  series: readonly Series[];
  /** Offer the log-scale toggle (only meaningful for positive values such as losses). */
  allowLog?: boolean;
  format?: (value: number) => string;
  width?: number;
  height?: number;
  testId?: string;
}

const defaultFormat = (v: number) =>
  Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toFixed(3);

/** Memoised: a chart re-renders only when its own data or series change. */
export const MetricChart = memo(function MetricChart({
  title,
  data,
  series,
  allowLog = false,
  format = defaultFormat,
  width = 440,
  height = 200,
  testId,
}: MetricChartProps) {
  const [log, setLog] = useState(false);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const titleId = useId();
  const figure = useRef<HTMLElement>(null);
  const last = data.at(-1);
  const summary = last
    ? series
        .map((s) => (last[s.key] !== undefined ? `${s.name} ${format(last[s.key]!)}` : null))
        .filter(Boolean)
        .join(', ')
    : 'no data yet';
  const download = (kind: 'svg' | 'png') => {
    setDownloadError(null);
    const svg = figure.current?.querySelector<SVGSVGElement>('.recharts-wrapper > svg');
    if (!svg) return;
    const text = chartSvgText(svg, title, series);
    const fileName = `${title
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase()}.${kind}`;
    if (kind === 'svg') downloadBytes(fileName, text, 'image/svg+xml');
    else
      svgToPng(text).then(
        (png) => downloadBytes(fileName, png, 'image/png'),
        (e: unknown) => setDownloadError(`PNG not made: ${errorMessage(e)}`),
      );
  };
  return (
    <figure
      ref={figure}
      className="metric-chart"
      data-testid={testId}
      data-points={data.length}
      aria-labelledby={titleId}
    >
      <figcaption>
        <span id={titleId} className="metric-title">
          {title}
        </span>
        <span className="metric-latest" aria-live="off">
          {summary}
        </span>
        {allowLog && (
          <label className="metric-log">
            <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> log scale
          </label>
        )}
        <span className="actions">
          <button type="button" aria-label={`Download ${title} as SVG`} onClick={() => download('svg')}>
            SVG
          </button>
          <button type="button" aria-label={`Download ${title} as PNG`} onClick={() => download('png')}>
            PNG
          </button>
        </span>
        {downloadError && (
          <span role="alert" className="task-error">
            {downloadError}
          </span>
        )}
      </figcaption>
      <LineChart
        width={width}
        height={height}
        data={data as ChartPoint[]}
        margin={{ top: 4, right: 12, bottom: 4, left: 4 }}
      >
        <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ea" />
        <XAxis
          dataKey="step"
          type="number"
          domain={['dataMin', 'dataMax']}
          allowDecimals={false}
          tick={{ fontSize: 11 }}
        />
        <YAxis
          scale={log ? 'log' : 'linear'}
          domain={['auto', 'auto']}
          allowDataOverflow={log}
          tick={{ fontSize: 11 }}
          width={56}
          tickFormatter={format}
        />
        <Tooltip
          formatter={(v) => (typeof v === 'number' ? format(v) : String(v))}
          labelFormatter={(s) => `step ${String(s)}`}
        />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {series.map((s) => (
          <Line
            key={s.key}
            dataKey={s.key}
            name={s.name}
            stroke={s.colour}
            strokeDasharray={s.dashed ? '4 3' : undefined}
            strokeWidth={s.dashed ? 1 : 2}
            dot={s.dots ? { r: 2 } : false}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
      <ChartNumbers title={title} data={data} series={series} format={format} />
    </figure>
  );
});
