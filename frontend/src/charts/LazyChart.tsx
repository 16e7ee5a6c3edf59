import { useEffect, useState, type ComponentType } from "react";
import type { StackedBarChartProps } from "./StackedBarChart";

type Chart = ComponentType<StackedBarChartProps>;

let loaded: Chart | null = null;
let loading: Promise<Chart> | null = null;

/** Start downloading the chart code (Chart.js) once; a page that will draw a chart calls this when it mounts, so the
 * download runs beside its data requests instead of after them. */
export function preloadChart(): Promise<Chart> {
  loading ??= import("./StackedBarChart").then(
    (module) => (loaded = module.default),
    (error: unknown) => {
      loading = null; // a later render tries again (e.g. the network came back)
      throw error;
    },
  );
  return loading;
}

/** The chart, loaded on first use; a placeholder of the same height while Chart.js downloads.
 *
 * Not React.lazy: a Suspense boundary keeps its fallback up to 300 ms once shown, even when the code arrives
 * sooner, and the chart is the last thing the dashboard waits for. */
export function LazyStackedBarChart(props: StackedBarChartProps) {
  const [chart, setChart] = useState<{ Chart: Chart | null; failed: boolean }>(() => ({ Chart: loaded, failed: false }));
  useEffect(() => {
    if (chart.Chart) return;
    let live = true;
    preloadChart().then(
      (Chart) => live && setChart({ Chart, failed: false }),
      () => live && setChart({ Chart: null, failed: true }),
    );
    return () => {
      live = false;
    };
  }, [chart.Chart]);

  const { Chart, failed } = chart;
  if (Chart) return <Chart {...props} />;
  return (
    <div className="chart-box chart-loading" style={{ height: props.height ?? 280 }} role="status">
      {failed ? "The chart could not be loaded. Reload the page to try again." : "Loading the chart…"}
    </div>
  );
}
