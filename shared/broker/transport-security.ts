/**
 * Plain AMQP and plain HTTP carry the broker password and every message header in clear: allowed only to this
 * computer (loopback, e.g. the demo region or a TLS tunnel's local end). Every place that takes a broker or
 * management address asks here, so that hub, workstation and connector refuse the same things with the same words.
 */
const LOOPBACK_NAMES: ReadonlySet<string> = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

/** localhost, 127.0.0.0/8 and ::1 (also written [::1] or as an IPv4-mapped address). */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (LOOPBACK_NAMES.has(name) || name.endsWith('.localhost')) return true;
  const v4 = name.replace(/^::ffff:/, '');
  if (/^127(\.\d{1,3}){3}$/.test(v4)) return v4.split('.').every((part) => Number(part) <= 255);
  return /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(name);
}

/**
 * Why plain AMQP to these hosts is refused, in one line ending with `remedy` (what to set where it is configured);
 * undefined when every host is on this computer.
 */
export function plainAmqpProblem(hosts: readonly { host: string }[], remedy: string): string | undefined {
  const remote = hosts.filter((h) => !isLoopbackHost(h.host)).map((h) => h.host);
  if (remote.length === 0) return undefined;
  return `plain AMQP (no TLS) to ${remote.join(', ')} is refused: it would carry the broker password and message headers in clear (plain AMQP is only for a broker on this computer: localhost, 127.0.0.1, ::1); ${remedy}`;
}

/** Why this management API URL is refused, in one line; undefined for https, or http to this computer. */
export function plainHttpProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a URL`;
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol !== 'http:') return `${parsed.protocol} URLs are not supported; use https`;
  if (isLoopbackHost(parsed.hostname)) return undefined;
  return `plain HTTP to ${parsed.hostname} is refused: it would carry the management password in clear (http is only for a broker on this computer: localhost, 127.0.0.1, ::1); use https`;
}
