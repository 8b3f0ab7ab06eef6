// What `logstream stack status` shows for each service, and its plain-text table.
import { formatTable } from '../../text/format.js';

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
