import { timingSafeEqual, createHash } from 'node:crypto';

/**
 * Who may read the HTTP endpoint (metrics-port): with a password set (`metrics-password`, or else
 * `requirepass`), a request must carry it as HTTP Basic credentials (any user name, so Prometheus's
 * `basic_auth` and a browser's login prompt both work) or as a Bearer token (Prometheus's
 * `authorization`). The endpoint shows the cluster's layout, key counts and command rates, which a
 * password on the client port is meant to keep private too. Pure.
 */
export function httpPassword(get: (name: string) => string): string {
  return get('metrics-password') || get('requirepass');
}

/** True when the request's Authorization header carries `password` (always true when there is none). */
export function authorized(header: string | undefined, password: string): boolean {
  if (password === '') return true;
  if (header === undefined) return false;
  const [scheme, value = ''] = header.trim().split(/\s+/, 2) as [string, string?];
  let given: string | undefined;
  if (/^bearer$/i.test(scheme)) given = value;
  else if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    given = colon < 0 ? undefined : decoded.slice(colon + 1);
  }
  if (given === undefined) return false;
  // Hashes of equal length, so the comparison takes the same time whatever was sent.
  return timingSafeEqual(digest(given), digest(password));
}

/** The header a node sends to a peer's endpoint (the dashboard gathers every node's report). */
export function authorizationHeader(password: string): Record<string, string> {
  return password === '' ? {} : { authorization: `Bearer ${password}` };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
