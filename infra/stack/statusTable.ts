// What `logstream stack status` shows for each service, and its plain-text table.

export type ServiceState = 'running' | 'stopped' | 'external';

export interface ServiceStatus {
  service: string;
  /** running: started by this stack and alive; external: the user's own (its config key is set); stopped: neither. */
  state: ServiceState;
  healthy: boolean;
  url: string;
  /** Installed version, "-" when not installed, "(external)" for the user's own service. */
  version: string;
  installed: boolean;
  pid?: number;
  logFile?: string;
}

function healthWord(status: ServiceStatus): string {
  if (status.state === 'stopped') return status.healthy ? 'answering' : '-';
  return status.healthy ? 'healthy' : 'unhealthy';
}

/** Left-aligned columns separated by two spaces; the header names them. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function formatStatusTable(statuses: ServiceStatus[]): string {
  return formatTable(
    ['SERVICE', 'STATE', 'HEALTH', 'PID', 'VERSION', 'URL'],
    statuses.map((status) => [
      status.service,
      status.state,
      healthWord(status),
      status.pid === undefined ? '-' : String(status.pid),
      status.version,
      status.url,
    ]),
  );
}
