// The Prometheus server's HTTP API, as far as the pipeline needs it: is it ready. Credentials in
// prometheus.url (http://user:pass@host, from the environment) are sent as basic auth.
import { splitUrlCredentials } from '../../config/secrets.js';

/** True when GET /-/ready answers OK. Never throws. */
export async function prometheusReady(url: string, timeoutMs = 2000): Promise<boolean> {
  const { url: base, username, password } = splitUrlCredentials(url);
  const headers: Record<string, string> =
    username === undefined ? {} : { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` };
  try {
    const response = await fetch(`${base.replace(/\/+$/, '')}/-/ready`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
