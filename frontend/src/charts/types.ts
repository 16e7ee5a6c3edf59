export interface ChartSeries {
  key: string;
  label: string;
  /** Heights for the chart (floats are fine for geometry). */
  values: number[];
  /** The exact decimal strings, for tooltips. */
  amounts: string[];
}
