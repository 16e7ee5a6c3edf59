import { lazy, Suspense } from "react";
import type { StackedBarChartProps } from "./StackedBarChart";

const StackedBarChart = lazy(() => import("./StackedBarChart"));

/** The chart, loaded on first use; a placeholder of the same height while Chart.js downloads. */
export function LazyStackedBarChart(props: StackedBarChartProps) {
  return (
    <Suspense
      fallback={
        <div className="chart-box chart-loading" style={{ height: props.height ?? 280 }} role="status">
          Loading the chart…
        </div>
      }
    >
      <StackedBarChart {...props} />
    </Suspense>
  );
}
