// Renders Vega-Lite chart specs to standalone SVG on the server, so reports need no JavaScript
// and no network to show their charts.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  width: 640,
  config: { font: 'system-ui, sans-serif', view: { stroke: null } },
} as const;

/** Lines of several numeric fields over a time field. */
export function timeSeriesSpec(rows: Record<string, unknown>[], timeField: string, fields: string[], title: string): TopLevelSpec {
  return {
    ...base,
    title,
    height: 220,
    data: { values: rows },
    transform: [{ fold: fields, as: ['series', 'value'] }],
    mark: { type: 'line', point: rows.length < 60 },
    encoding: {
      x: { field: timeField, type: 'temporal', title: null, axis: { format: '%Y-%m-%d %H:%M' } },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'series', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
}

/** Horizontal bars of one numeric field by a category, largest first. */
export function barSpec(
  rows: Record<string, unknown>[],
  categoryField: string,
  valueField: string,
  title: string,
  format = ',',
): TopLevelSpec {
  return {
    ...base,
    title,
    height: { step: 18 },
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: categoryField, type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 320 } },
      x: { field: valueField, type: 'quantitative', title: valueField.replaceAll('_', ' '), axis: { format } },
      tooltip: [{ field: categoryField }, { field: valueField, format }],
    },
  } as TopLevelSpec;
}
