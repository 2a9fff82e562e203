/**
 * A chart's numbers as text (its accessible equivalent): a closed <details> that, once opened,
 * holds a table of every point, one row per step and one column per line. The table is built only
 * while open, so a live chart that nobody reads as a table costs nothing (NumbersDetails, which
 * the unit maps use too).
 */
import { useState, type ReactNode } from 'react';
import type { ChartPoint, Series } from './chartTypes';

export function ChartNumbers({
  title,
  data,
  series,
  format,
}: {
  title: string;
  data: readonly ChartPoint[];
  series: readonly Series[];
  format: (value: number) => string;
}) {
  return (
    <NumbersDetails label={title}>
      {() => (
        <table className="compare" data-testid="chart-numbers">
          <caption className="visually-hidden">{title}: values by step</caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              {series.map((s) => (
                <th key={s.key} scope="col">
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.map((point) => (
              <tr key={point.step}>
                <th scope="row">{point.step}</th>
                {series.map((s) => (
                  <td key={s.key}>{point[s.key] === undefined ? '–' : format(point[s.key]!)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </NumbersDetails>
  );
}

/**
 * A closed "Show the numbers" <details> whose table is built only while it is open, in a
 * scrollable region named after what it shows.
 */
export function NumbersDetails({ label, children }: { label: string; children: () => ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="chart-numbers" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Show the numbers</summary>
      {open && (
        <div className="chart-numbers-scroll" role="region" aria-label={`${label}: numbers`} tabIndex={0}>
          {children()}
        </div>
      )}
    </details>
  );
}
