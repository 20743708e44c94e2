/**
 * Goal: the TLS settings decide what Redis 7.0's do (protocol range, cipher lists, which files are
 * required when), the ports a TLS cluster announces follow Redis's derivation, the session cache
 * keeps its bounds, and unusable certificate files are reported in one line naming the setting.
 * Method: the pure modules called directly; certificate loading on files made by the openssl CLI.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CIPHERS } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { Config, ConfigError } from '../../src/core/config.js';
import { normalizeTlsProtocols } from '../../src/core/tls-settings.js';
import { announcedPorts, portForClient } from '../../src/cluster/announced-ports.js';
import { cipherString, protocolRange, tlsPlan, TlsSettingError } from '../../src/server/tls-options.js';
import { TlsSessionCache } from '../../src/server/tls-session-cache.js';
import { loadTlsMaterial } from '../../src/server/tls-context.js';
import { TestPki } from '../helpers/tls-certs.js';

const settings = (over: Record<string, string>): ((name: string) => string) => {
  const config = new Config(Object.entries(over));
  return (name) => config.str(name);
};
const numbers = (over: Record<string, string>): ((name: string) => number) => {
  const get = settings(over);
  return (name) => (get(name) === 'yes' ? 1 : get(name) === 'no' ? 0 : Number(get(name)));
};

describe('TLS settings', () => {
  it('defaults are Redis 7.0\'s', () => {
    const get = settings({});
    expect(get('tls-port')).toBe('0');
    expect(get('tls-auth-clients')).toBe('yes');
    expect(get('tls-session-caching')).toBe('yes');
    expect(get('tls-session-cache-size')).toBe('20480');
    expect(get('tls-session-cache-timeout')).toBe('300');
    expect(get('tls-prefer-server-ciphers')).toBe('no');
    expect(get('tls-cluster')).toBe('no');
    expect(get('tls-replication')).toBe('no');
  });

  it('tls-protocols takes Redis\'s names in any case and refuses others', () => {
    expect(normalizeTlsProtocols('tlsv1.2  TLSv1.3')).toBe('TLSv1.2 TLSv1.3');
    expect(() => normalizeTlsProtocols('TLSv1.2 SSLv3')).toThrow(/unknown protocol 'SSLv3'/);
    expect(() => new Config([['tls-protocols', 'TLSv2']])).toThrow(ConfigError);
  });

  it('the protocol set becomes the range Node.js takes; empty is TLSv1.2 to TLSv1.3', () => {
    expect(protocolRange('')).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(protocolRange('TLSv1.3')).toEqual({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(protocolRange('TLSv1.3 TLSv1.1')).toEqual({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.3' });
  });

  it('setting one cipher kind keeps the default of the other', () => {
    const defaults = DEFAULT_CIPHERS.split(':');
    const tls13 = defaults.filter((c) => c.startsWith('TLS_')).join(':');
    expect(cipherString('ECDHE-RSA-AES128-GCM-SHA256', '')).toBe(`${tls13}:ECDHE-RSA-AES128-GCM-SHA256`);
    expect(cipherString('', 'TLS_AES_128_GCM_SHA256').startsWith('TLS_AES_128_GCM_SHA256:ECDHE')).toBe(true);
  });

  it('what TLS requires: nothing when off, a certificate and key, a CA when certificates are checked', () => {
    expect(tlsPlan(settings({}))).toBeUndefined();
    expect(() => tlsPlan(settings({ 'tls-port': '7443' }))).toThrow(/no tls-cert-file configured/);
    expect(() => tlsPlan(settings({ 'tls-port': '7443', 'tls-cert-file': 'c' }))).toThrow(/no tls-key-file configured/);
    const noCa = { 'tls-port': '7443', 'tls-cert-file': 'c', 'tls-key-file': 'k' };
    expect(() => tlsPlan(settings(noCa))).toThrow(TlsSettingError);
    expect(tlsPlan(settings({ ...noCa, 'tls-auth-clients': 'no' }))?.authClients).toBe('no');
    // The bus always checks its peers: a CA is needed whatever tls-auth-clients says.
    expect(() => tlsPlan(settings({ ...noCa, 'tls-auth-clients': 'no', 'tls-cluster': 'yes' }))).toThrow(/tls-ca-cert-file or tls-ca-cert-dir/);
    const plan = tlsPlan(settings({ ...noCa, 'tls-ca-cert-dir': '/d', 'tls-client-cert-file': 'cc', 'tls-client-key-file': 'ck' }))!;
    expect(plan.server.certFile).toBe('c');
    expect(plan.client.certFile).toBe('cc');
    expect(() => tlsPlan(settings({ ...noCa, 'tls-ca-cert-dir': '/d', 'tls-client-cert-file': 'cc' }))).toThrow(/without tls-client-key-file/);
  });

  it('ports: tls-port differs from port, and a node needs at least one of them', () => {
    expect(() => new Config([['port', '7000'], ['tls-port', '7000']])).toThrow(/tls-port \(7000\) must differ from port/);
    expect(() => new Config([['port', '0']])).toThrow(/port and tls-port are both 0/);
    expect(new Config([['port', '0'], ['tls-port', '7443']]).int('tls-port')).toBe(7443);
    expect(() => new Config([['tls-port', '7001'], ['metrics-port', '7001']])).toThrow(/must differ from tls-port/);
  });
});

describe('announced ports', () => {
  it('plain cluster: port, bus at port + 10000', () => {
    expect(announcedPorts(numbers({ 'cluster-enabled': 'yes', port: '7000' }), 7000)).toEqual({ port: 7000, plainPort: undefined, busListenPort: 17000, busPort: 17000 });
  });

  it('tls-cluster with tls-port: the TLS port is announced, the plain one beside it, the bus at tls-port + 10000 (Redis 7.0)', () => {
    const p = announcedPorts(numbers({ 'cluster-enabled': 'yes', port: '7000', 'tls-port': '8000', 'tls-cluster': 'yes' }), 7000);
    expect(p).toEqual({ port: 8000, plainPort: 7000, busListenPort: 18000, busPort: 18000 });
    expect(portForClient(p, true)).toBe(8000);
    expect(portForClient(p, false)).toBe(7000);
    const announced = announcedPorts(numbers({ 'cluster-enabled': 'yes', port: '7000', 'tls-port': '8000', 'tls-cluster': 'yes', 'cluster-announce-tls-port': '9000', 'cluster-announce-port': '9001' }), 7000);
    expect([announced.port, announced.plainPort]).toEqual([9000, 9001]);
  });

  it('tls-cluster with port 0: only the TLS port; a TLS port without tls-cluster is not announced', () => {
    const only = announcedPorts(numbers({ 'cluster-enabled': 'yes', port: '0', 'tls-port': '8000', 'tls-cluster': 'yes' }), 0);
    expect([only.port, only.plainPort]).toEqual([8000, undefined]);
    expect(portForClient(only, false)).toBe(8000);
    const notCluster = announcedPorts(numbers({ 'cluster-enabled': 'yes', port: '7000', 'tls-port': '8000' }), 7000);
    expect([notCluster.port, notCluster.plainPort, notCluster.busListenPort]).toEqual([7000, undefined, 17000]);
  });
});

describe('TLS session cache', () => {
  it('keeps at most its size, oldest out first, and forgets sessions past the timeout', () => {
    const cache = new TlsSessionCache(2, 1000);
    const id = (n: number): Buffer => Buffer.from([n]);
    cache.store(id(1), Buffer.from('a'), 0);
    cache.store(id(2), Buffer.from('b'), 10);
    cache.store(id(3), Buffer.from('c'), 20);
    expect(cache.size).toBe(2);
    expect(cache.lookup(id(1), 30)).toBeUndefined();
    expect(cache.lookup(id(2), 30)?.toString()).toBe('b');
    expect(cache.lookup(id(3), 1020)).toBeUndefined();
    cache.configure(0, 5000);
    for (let i = 0; i < 10; i++) cache.store(id(i), Buffer.from('x'), 2000);
    expect(cache.size).toBe(10);
  });
});

describe('loading certificate files', () => {
  const pki = new TestPki();
  const ca = pki.authority('unit-ca');
  const server = pki.leaf(ca, 'unit-server');
  const other = pki.leaf(ca, 'unit-other');
  const encrypted = pki.encryptedKey(server.key, 'pw');
  const base = { 'tls-port': '7443', 'tls-cert-file': server.cert, 'tls-key-file': server.key, 'tls-ca-cert-file': ca.cert };
  const problem = (over: Record<string, string>): TlsSettingError => {
    try {
      loadTlsMaterial(settings({ ...base, ...over }));
    } catch (err) {
      if (err instanceof TlsSettingError) return err;
      throw err;
    }
    throw new Error('loaded');
  };

  it('loads a good pair, also with an encrypted key and its passphrase, and a CA directory', () => {
    expect(loadTlsMaterial(settings(base))?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(loadTlsMaterial(settings({ ...base, 'tls-key-file': encrypted, 'tls-key-file-pass': 'pw' }))).toBeDefined();
    const dir = path.join(pki.dir, 'cadir');
    writeFileSync(path.join(pki.dir, 'README'), 'not a certificate');
    expect(loadTlsMaterial(settings({ ...base, 'tls-ca-cert-file': '', 'tls-ca-cert-dir': pki.dir }))).toBeDefined();
    expect(problem({ 'tls-ca-cert-file': '', 'tls-ca-cert-dir': dir }).message).toMatch(/cannot read tls-ca-cert-dir .*cadir: no such file/);
  });

  it('names the setting and the problem in one line', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ 'tls-cert-file': path.join(pki.dir, 'none.crt') }, 'tls-cert-file', /cannot read tls-cert-file .*none\.crt: no such file or directory \(ENOENT\)/],
      [{ 'tls-cert-file': server.key }, 'tls-cert-file', /holds no PEM certificate/],
      [{ 'tls-key-file': other.key }, 'tls-key-file', /does not match the certificate in tls-cert-file/],
      [{ 'tls-key-file': encrypted, 'tls-key-file-pass': 'wrong' }, 'tls-key-file', /wrong passphrase/],
      [{ 'tls-key-file': server.cert }, 'tls-key-file', /not a usable PEM private key/],
      [{ 'tls-ca-cert-file': server.key }, 'tls-ca-cert-file', /holds no PEM certificate/],
    ];
    for (const [over, setting, pattern] of cases) {
      const err = problem(over);
      expect(err.setting).toBe(setting);
      expect(err.message).toMatch(pattern);
      expect(err.message).not.toContain('\n');
    }
  });
});
