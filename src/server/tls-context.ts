/**
 * Reads the files a TlsPlan names and turns them into Node.js TLS options, checking each piece on
 * its own first so a failure names the setting and says what is wrong in one line ("wrong
 * passphrase", "not a PEM certificate", "does not match tls-cert-file") instead of OpenSSL's
 * error stack.
 */
import { constants as cryptoConstants, createPrivateKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { errnoText } from '../core/startup-error.js';
import { tlsPlan, TlsSettingError, type KeyPairFiles, type TlsPlan } from './tls-options.js';

/** Options for a TLS server (client port, bus listener) or for dialling a peer's bus. */
export interface TlsMaterial {
  plan: TlsPlan;
  /** Server side: the certificate clients and peers see. */
  server: SecureContextOptions;
  /** Dialling side: what this node presents to a peer's bus. */
  client: SecureContextOptions;
  /** SHA-256 fingerprint of the server certificate, for the log. */
  fingerprint: string;
}


function readSetting(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsSettingError(setting, `cannot read ${setting} ${file}: ${errnoText(err)}`);
  }
}

/** A PEM private key stored encrypted (PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy Proc-Type header). */
const ENCRYPTED_PEM_RE = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

/**
 * OpenSSL's reason for a key it could not load, in words an operator acts on. An encrypted key
 * that fails to load with a passphrase given was decrypted with the wrong one, whatever OpenSSL
 * calls the garbage it got (usually "bad decrypt", sometimes a decoder's "unsupported").
 */
function keyProblem(err: unknown, hasPassphrase: boolean, encrypted: boolean): string {
  const e = err as { code?: string; message?: string };
  const text = `${e.code ?? ''} ${e.message ?? ''}`;
  if (/BAD_DECRYPT|bad decrypt/i.test(text) || (encrypted && hasPassphrase)) return 'wrong passphrase';
  if (/passphrase required|interrupted or cancelled|ERR_MISSING_PASSPHRASE/i.test(text)) {
    return hasPassphrase ? 'wrong passphrase' : 'the key is encrypted: set its passphrase';
  }
  return `not a usable PEM private key (${(e.message ?? String(err)).split('\n')[0]})`;
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every PEM certificate in `pem`; throws when there is none or one does not parse. */
function certificates(setting: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT_RE) ?? [];
  if (blocks.length === 0) throw new TlsSettingError(setting, `${setting} ${file} holds no PEM certificate`);
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new TlsSettingError(setting, `${setting} ${file}: not a valid certificate (${(err as Error).message.split('\n')[0]})`);
    }
  });
}

/** The CA certificates of tls-ca-cert-file and of every file in tls-ca-cert-dir (OpenSSL's hashed-dir layout included). */
function caCertificates(plan: TlsPlan): Buffer[] {
  const out: Buffer[] = [];
  if (plan.caFile !== '') {
    const pem = readSetting('tls-ca-cert-file', plan.caFile);
    certificates('tls-ca-cert-file', plan.caFile, pem);
    out.push(pem);
  }
  if (plan.caDir !== '') {
    let names: string[];
    try {
      names = readdirSync(plan.caDir).sort();
    } catch (err) {
      throw new TlsSettingError('tls-ca-cert-dir', `cannot read tls-ca-cert-dir ${plan.caDir}: ${errnoText(err)}`);
    }
    let found = 0;
    for (const name of names) {
      const file = path.join(plan.caDir, name);
      if (!statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
      const pem = readSetting('tls-ca-cert-dir', file);
      // A directory may hold other files (CRLs, READMEs): only PEM certificates count.
      if (!PEM_CERT_RE.test(pem.toString('latin1'))) continue;
      PEM_CERT_RE.lastIndex = 0;
      certificates('tls-ca-cert-dir', file, pem);
      out.push(pem);
      found++;
    }
    if (found === 0) throw new TlsSettingError('tls-ca-cert-dir', `tls-ca-cert-dir ${plan.caDir} holds no PEM certificate`);
  }
  return out;
}

/** Reads a certificate and its key and checks that they belong together. */
function keyPair(files: KeyPairFiles): { cert: Buffer; key: Buffer; passphrase?: string; leaf: X509Certificate } {
  const cert = readSetting(files.certSetting, files.certFile);
  const leaf = certificates(files.certSetting, files.certFile, cert)[0]!;
  const key = readSetting(files.keySetting, files.keyFile);
  let privateKey;
  try {
    privateKey = createPrivateKey(files.passphrase !== '' ? { key, passphrase: files.passphrase } : { key });
  } catch (err) {
    throw new TlsSettingError(files.keySetting, `cannot load ${files.keySetting} ${files.keyFile}: ${keyProblem(err, files.passphrase !== '', ENCRYPTED_PEM_RE.test(key.toString('latin1')))}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsSettingError(files.keySetting, `${files.keySetting} ${files.keyFile} does not match the certificate in ${files.certSetting} ${files.certFile}`);
  }
  return { cert, key, leaf, ...(files.passphrase !== '' ? { passphrase: files.passphrase } : {}) };
}

/**
 * Builds the TLS material for the settings `get` returns, or undefined when neither tls-port nor
 * tls-cluster is on. Throws TlsSettingError (one line, naming the setting).
 */
export function loadTlsMaterial(get: (name: string) => string): TlsMaterial | undefined {
  const plan = tlsPlan(get);
  if (plan === undefined) return undefined;
  const ca = caCertificates(plan);
  const own = keyPair(plan.server);
  const dialling = plan.client === plan.server ? own : keyPair(plan.client);
  const common: SecureContextOptions = {
    ...(ca.length > 0 ? { ca } : {}),
    minVersion: plan.minVersion,
    maxVersion: plan.maxVersion,
    ciphers: plan.ciphers,
    ...(plan.dhParamsFile !== '' ? { dhparam: readSetting('tls-dh-params-file', plan.dhParamsFile) } : {}),
  };
  const server: SecureContextOptions = {
    ...common,
    cert: own.cert, key: own.key, ...(own.passphrase !== undefined ? { passphrase: own.passphrase } : {}),
    honorCipherOrder: plan.honorCipherOrder,
    sessionTimeout: plan.sessionCacheTimeoutSec,
    // Without caching no ticket is issued either; resumption by id is refused in tls-server.ts.
    ...(plan.sessionCaching ? {} : { secureOptions: cryptoConstants.SSL_OP_NO_TICKET }),
  };
  const client: SecureContextOptions = {
    ...common,
    cert: dialling.cert, key: dialling.key, ...(dialling.passphrase !== undefined ? { passphrase: dialling.passphrase } : {}),
  };
  // What is left to fail here is OpenSSL's own judgement (cipher strings, DH parameters, protocol range).
  for (const [options, setting] of [[server, 'tls-ciphers'], [client, 'tls-client-cert-file']] as const) {
    try {
      createSecureContext(options);
    } catch (err) {
      throw new TlsSettingError(setting, `the TLS settings are not usable: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { plan, server, client, fingerprint: own.leaf.fingerprint256 };
}

/** `loadTlsMaterial`'s errors as `{ setting, message }`, anything else rethrown. */
export function tlsProblem(err: unknown): { setting: string; message: string } {
  if (err instanceof TlsSettingError) return { setting: err.setting, message: err.message };
  throw err;
}
