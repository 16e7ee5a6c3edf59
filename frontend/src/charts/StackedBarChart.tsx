// Loaded lazily (React.lazy): Chart.js stays out of the entry bundle.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartOptions, type Plugin } from "chart.js";
import { useMemo, useRef } from "react";
import { Bar } from "react-chartjs-2";
import { formatMoney } from "../lib/format";
import type { ChartSeries } from "./types";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);
Chart.defaults.font.family =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif';
Chart.defaults.color = "#4a5568";

export const PALETTE = [
  "#2f6fed",
  "#f08c00",
  "#2b9a66",
  "#d6336c",
  "#7048e8",
  "#0c8599",
  "#e8590c",
  "#5c940d",
  "#862e9c",
  "#495057",
];

export interface StackedBarChartProps {
  labels: string[];
  series: ChartSeries[];
  currency: string;
  ariaLabel: string;
  horizontal?: boolean;
  height?: number;
  /** Called after Chart.js has drawn the chart (each time it draws): pages use it to say they are loaded. */
  onDrawn?: () => void;
}

export default function StackedBarChart({ labels, series, currency, ariaLabel, horizontal = false, height = 280, onDrawn }: StackedBarChartProps) {
  const drawn = useRef(onDrawn);
  drawn.current = onDrawn;
  // Chart.js reads inline plugins when the chart is created only: one stable plugin reads the latest callback.
  const plugins = useMemo<Plugin<"bar">[]>(() => [{ id: "spendwatch-drawn", afterRender: () => drawn.current?.() }], []);
  const data = {
    labels,
    datasets: series.map((s, i) => ({
      label: s.label,
      data: s.values,
      backgroundColor: PALETTE[i % PALETTE.length],
      borderWidth: 0,
      maxBarThickness: 48,
    })),
  };
  const valueAxis = {
    stacked: true,
    beginAtZero: true,
    ticks: { callback: (value: string | number) => formatMoney(String(value), currency, { tiny: false }) },
    grid: { color: "#e9ecef" },
  };
  const categoryAxis = { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 8 } };
  const options: ChartOptions<"bar"> = {
    indexAxis: horizontal ? "y" : "x",
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 }, display: series.length > 1 },
      tooltip: {
        callbacks: {
          // The exact decimal string from the API, not the float used for the bar's height.
          label: (ctx) => {
            const amount = series[ctx.datasetIndex]?.amounts[ctx.dataIndex] ?? "0";
            return `${ctx.dataset.label ?? ""}: ${formatMoney(amount, currency)}`;
          },
        },
      },
    },
    scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
  };
  return (
    <div className="chart-box" style={{ height }}>
      <Bar data={data} options={options} plugins={plugins} role="img" aria-label={ariaLabel} />
    </div>
  );
}
