// One metric against the step, drawn with uPlot. The canvas is decoration for sighted users; the caption
// says the latest value in words. Colours come from the theme's CSS variables, so the chart is redrawn
// when the theme changes.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useThemeKey } from './useThemeKey';

interface Props {
  title: string;
  steps: readonly number[];
  values: readonly (number | null)[];
  format: (value: number) => string;
  /** A second series drawn as a band around the first (e.g. ± one standard deviation). */
  spread?: readonly (number | null)[];
  /** A fixed y range (e.g. rewards in [0, 1]); otherwise the data's, padded. */
  range?: [number, number];
}

const HEIGHT = 150;

function css(element: Element, name: string, fallback: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || fallback;
}

/** "#2f6f5e" at `alpha` as rgba() (canvas colours; the theme's variables are hex). */
function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  return m ? `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${alpha})` : `rgba(127, 127, 127, ${alpha})`;
}

function dataOf(steps: readonly number[], values: readonly (number | null)[], spread?: readonly (number | null)[]): uPlot.AlignedData {
  const base: (number | null)[][] = [[...steps], [...values]];
  if (spread) {
    base.push(values.map((v, i) => (v === null || spread[i] == null ? null : v - spread[i]!)));
    base.push(values.map((v, i) => (v === null || spread[i] == null ? null : v + spread[i]!)));
  }
  return base as uPlot.AlignedData;
}

export function MetricChart({ title, steps, values, format, spread, range }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useThemeKey();
  const latest = values.at(-1);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const accent = css(el, '--accent', '#2f6f5e');
    const muted = css(el, '--muted', '#5d666d');
    const grid = css(el, '--border', '#d9dcd6');
    const axis: uPlot.Axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' };
    const band: uPlot.Series = { stroke: 'transparent', points: { show: false } };
    const options: uPlot.Options = {
      width: Math.max(160, el.clientWidth),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      // A constant series (a KL of 0 at the start) still gets a readable axis around its value.
      scales: { x: { time: false }, y: { range: range ? () => range : (_u, min, max) => (min === max ? [min - (Math.abs(min) || 1) / 2, max + (Math.abs(max) || 1) / 2] : [min - (max - min) * 0.1, max + (max - min) * 0.1]) } },
      axes: [{ ...axis, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) }, { ...axis, size: 56, values: (_u, ticks) => ticks.map((t) => format(t)) }],
      series: [{}, { label: title, stroke: accent, width: 2, points: { show: true, size: 5, fill: accent } }, ...(spread ? [band, band] : [])],
      ...(spread ? { bands: [{ series: [3, 2] as [number, number], fill: withAlpha(accent, 0.18) }] } : {}),
    };
    const chart = new uPlot(options, dataOf([], [], spread ? [] : undefined), el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(160, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // The options depend on the theme and on whether there is a band; data arrive in the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [theme, spread !== undefined, range?.[0], range?.[1]]);

  useEffect(() => {
    plot.current?.setData(dataOf(steps, values, spread));
  }, [steps, values, spread, theme]);

  return (
    <figure className="metric-chart">
      <figcaption>
        <span className="metric-title">{title}</span>{' '}
        <span className="metric-latest">{latest == null ? 'no steps yet' : `${format(latest)} at step ${steps.at(-1)}`}</span>
      </figcaption>
      <div ref={box} className="metric-canvas" aria-hidden="true" />
    </figure>
  );
}
