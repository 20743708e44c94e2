/**
 * `bind` as Redis 7.0 reads it: addresses separated by blanks; `*` is every IPv4 address and `::*`
 * every IPv6 one; a leading `-` marks an address as optional, skipped when this host does not have
 * it (Debian's stock redis.conf binds `127.0.0.1 -::1`, for hosts without IPv6).
 */
export interface BindAddress {
  host: string;
  optional: boolean;
}

export function bindAddresses(bind: string): BindAddress[] {
  return bind.split(/\s+/).filter(Boolean).map((word) => {
    const optional = word.startsWith('-');
    const addr = optional ? word.slice(1) : word;
    return { host: addr === '*' ? '0.0.0.0' : addr === '::*' ? '::' : addr, optional };
  });
}

/** The first bound address (the cluster bus listens there and dials from it); 127.0.0.1 when none. */
export function firstBindHost(bind: string): string {
  return bindAddresses(bind)[0]?.host ?? '127.0.0.1';
}

/** Errors an optional address is skipped on: this host has no such address or no such family. */
export function isMissingAddress(code: string | undefined): boolean {
  return code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT' || code === 'ENOTFOUND';
}
