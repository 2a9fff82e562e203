/** What a chart draws: rows keyed by step, and the lines (series) read from them. */
export interface Series {
  key: string;
  name: string;
  colour: string;
  dashed?: boolean;
  /** Draw the points only (e.g. sparse evaluations). */
  dots?: boolean;
}

export type ChartPoint = { step: number } & Record<string, number | undefined>;
