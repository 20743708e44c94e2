/**
 * Certificates made with the `openssl` command line in a directory: certificate authorities, and
 * server-and-client certificates signed by them (P-256 keys, SAN 127.0.0.1 and localhost), also
 * with explicit validity dates and encrypted keys. Used by the TLS benchmark and the TLS tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export interface Authority extends CertPair {
  name: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A directory of generated certificates; every path is absolute. */
export class Pki {
  constructor(readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  private newKey(name: string): string {
    const key = this.file(`${name}.key`);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], this.dir);
    return key;
  }

  /** A self-signed certificate authority. */
  authority(name: string): Authority {
    const key = this.newKey(name);
    const cert = this.file(`${name}.crt`);
    openssl(['req', '-x509', '-new', '-key', key, '-out', cert, '-days', '3650', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], this.dir);
    return { name, cert, key };
  }

  /**
   * A leaf certificate signed by `ca`, usable as a server and as a client certificate (the bus
   * needs both). `validity` picks explicit dates (an expired certificate); default 10 days from now.
   */
  leaf(ca: Authority, name: string, validity?: { start: string; end: string }): CertPair {
    const key = this.newKey(name);
    const csr = this.file(`${name}.csr`);
    const cert = this.file(`${name}.crt`);
    openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`], this.dir);
    const ext = this.file(`${name}.ext`);
    writeFileSync(ext, [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ].join('\n') + '\n');
    if (validity === undefined) {
      openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '10', '-extfile', ext], this.dir);
      return { cert, key };
    }
    // `openssl x509` only counts days from now; `openssl ca` takes explicit dates.
    const caDir = this.file(`${name}-ca`);
    mkdirSync(caDir, { recursive: true });
    writeFileSync(path.join(caDir, 'index.txt'), '');
    writeFileSync(path.join(caDir, 'serial'), '1000\n');
    const conf = path.join(caDir, 'ca.cnf');
    writeFileSync(conf, [
      '[ca]', 'default_ca = test_ca', '[test_ca]', `dir = ${caDir}`, 'database = $dir/index.txt', 'serial = $dir/serial',
      'new_certs_dir = $dir', 'default_md = sha256', 'policy = any', 'copy_extensions = none', 'unique_subject = no',
      '[any]', 'commonName = supplied',
    ].join('\n') + '\n');
    openssl(['ca', '-batch', '-config', conf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert,
      '-startdate', validity.start, '-enddate', validity.end, '-extfile', ext, '-notext'], this.dir);
    return { cert, key };
  }

  /** `key` encrypted with `passphrase` (AES-256), as tls-key-file-pass expects. */
  encryptedKey(key: string, passphrase: string): string {
    const out = key.replace(/\.key$/, '.enc.key');
    openssl(['pkey', '-in', key, '-aes256', '-passout', `pass:${passphrase}`, '-out', out], this.dir);
    return out;
  }
}
