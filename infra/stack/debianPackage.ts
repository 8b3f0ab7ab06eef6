// Services the stack takes from Debian packages (prometheus, nginx): installed with apt-get as root,
// and the distro's own service, which apt may start, stopped so the stack's instance owns the ports.
import { existsSync } from 'node:fs';
import { StackError } from './errors.js';
import { commandOnPath, runInstallCommand } from './install.js';

export interface DebianPackage {
  /** Stack service name, used in messages. */
  service: string;
  /** Debian package (and the distro service of the same name). */
  packageName: string;
  /** What to do on a system without apt-get. */
  otherwise: string;
}

export async function installDebianPackage(spec: DebianPackage, log: (line: string) => void): Promise<void> {
  if (!commandOnPath('apt-get')) {
    throw new StackError(spec.service, `${spec.service} is not installed and this system has no apt-get`, { hint: spec.otherwise });
  }
  if (process.getuid?.() !== 0) {
    throw new StackError(spec.service, `${spec.service} is not installed and installing the Debian package needs root`, {
      hint: `run: sudo apt-get install -y --no-install-recommends ${spec.packageName}`,
    });
  }
  // apt-get is atomic enough on its own: dpkg records a half-installed package and the next run completes it.
  log('apt-get update');
  await runInstallCommand(spec.service, 'apt-get', ['update', '-q']);
  log(`apt-get install ${spec.packageName} (Debian package)`);
  await runInstallCommand(spec.service, 'apt-get', ['install', '-y', '-q', '--no-install-recommends', spec.packageName], {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    onLine: (line) => {
      if (/^(Get:|Setting up)/.test(line)) log(line.trim());
    },
  });
  await stopDistroService(spec, log);
}

/** apt starts the distro's own service where it can; ours must be the one on the port. */
async function stopDistroService(spec: DebianPackage, log: (line: string) => void): Promise<void> {
  const options = { onLine: () => undefined };
  const name = spec.packageName;
  if (existsSync('/run/systemd/system') && commandOnPath('systemctl')) {
    await runInstallCommand(spec.service, 'systemctl', ['disable', '--now', name], options).catch(() => undefined);
    log(`disabled the distro ${name}.service (the stack runs its own)`);
  } else if (existsSync(`/etc/init.d/${name}`)) {
    await runInstallCommand(spec.service, `/etc/init.d/${name}`, ['stop'], options).catch(() => undefined);
  }
}
