// Coarse user-agent classes: people's browsers, crawlers, programmatic clients, and the rest
// (missing agents and security scanners, which real browsers never announce themselves as).

export type AgentClass = 'browser' | 'bot' | 'api' | 'other';

const SCANNER = /nikto|zgrab|nmap|masscan|sqlmap|nuclei|dirbuster|gobuster|wpscan|acunetix|nessus/i;
const BOT = /bot\b|bot\/|crawler|spider|slurp|crawl|facebookexternalhit|bingpreview/i;
const API =
  /^(curl|wget|python-|okhttp|go-http-client|java|axios|node-fetch|undici|libwww|apache-httpclient|postmanruntime|php|ruby|aiohttp|httpie|restsharp|dart)|okhttp/i;
const BROWSER = /^mozilla\/|^opera\//i;

export function classifyUserAgent(userAgent: string | null): AgentClass {
  if (!userAgent || userAgent === '-') return 'other';
  if (SCANNER.test(userAgent)) return 'other';
  if (BOT.test(userAgent)) return 'bot';
  if (API.test(userAgent)) return 'api';
  if (BROWSER.test(userAgent)) return 'browser';
  return 'other';
}
