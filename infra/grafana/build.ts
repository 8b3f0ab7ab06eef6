// Writes the dashboards of infra/grafana/dashboards.ts as JSON files for Grafana's provisioning.
import { writeFileSync } from 'node:fs';
import { buildDashboards } from './dashboards.js';

const folder = new URL('./dashboards/', import.meta.url);
for (const [file, board] of Object.entries(buildDashboards())) {
  writeFileSync(new URL(file, folder), `${JSON.stringify(board, null, 2)}\n`);
  console.log(`wrote infra/grafana/dashboards/${file}: ${board.panels?.length ?? 0} panels`);
}
