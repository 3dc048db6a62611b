/** A uPlot chart as a Preact component: created on mount, given new data on update, destroyed on unmount. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

export function Chart({ options, data, label }: { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = box.current!;
    const size = (): { width: number; height: number } => ({ width: Math.max(200, el.clientWidth), height: 220 });
    plot.current = new uPlot({ ...options, ...size() }, data, el);
    const ro = new ResizeObserver(() => plot.current?.setSize(size()));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
    // Options are fixed per chart; data changes go through setData below.
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return html`<div class="chart" ref=${box} role="img" aria-label=${label}></div>`;
}
