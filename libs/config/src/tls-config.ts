import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './parse-config';

/** The TLS side of a gRPC server: its certificate and, for client-certificate authentication, the CA clients need. */
export interface ServerTlsConfig {
  /** PEM certificate chain (WAYGATE_TLS_CERT_FILE). */
  readonly certChain: Buffer;
  /** PEM private key (WAYGATE_TLS_KEY_FILE); behind a function so that printing the configuration never shows it. */
  readonly privateKey: () => Buffer;
  /** PEM CA bundle (WAYGATE_TLS_CLIENT_CA_FILE): when set, only clients with a certificate it signed get in. */
  readonly clientCa?: Buffer;
}

/** The TLS side of this service's calls to other services of the region (ingress -> delivery-retry, -> media-store). */
export interface ClientTlsConfig {
  /** PEM CA bundle the called services' certificates must chain to (WAYGATE_INTERNAL_TLS_CA_FILE). */
  readonly ca: Buffer;
  /** This service's own certificate and key, presented as client certificate when the server asks for one. */
  readonly certChain?: Buffer;
  readonly privateKey?: () => Buffer;
}

/** TLS settings; both sides absent is plaintext, the local default. */
export interface TlsConfig {
  readonly server?: ServerTlsConfig;
  readonly client?: ClientTlsConfig;
}

type PemKind = 'certificate' | 'private key';

/** Reads a PEM file named by `variable`, or records why it cannot be used. */
function readPem(variable: string, file: string, kind: PemKind, problems: string[]): Buffer | undefined {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (error) {
    problems.push(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  const marker = kind === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!marker.test(pem.toString('latin1'))) {
    problems.push(`${variable}: ${file} holds no PEM ${kind}`);
    return undefined;
  }
  try {
    if (kind === 'certificate') new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    // The parser's message could quote key material; say only what is wrong.
    problems.push(`${variable}: ${file} is not a valid PEM ${kind}`);
    return undefined;
  }
  return pem;
}

/**
 * Reads the TLS variables once, at start, and checks what can be checked before the first connection: the files
 * exist and hold PEM of the right kind, key and certificate belong together, and nothing is half-configured.
 * - `WAYGATE_TLS_CERT_FILE` + `WAYGATE_TLS_KEY_FILE`: the gRPC server speaks TLS (both or neither).
 * - `WAYGATE_TLS_CLIENT_CA_FILE`: and asks every client for a certificate signed by this CA.
 * - `WAYGATE_INTERNAL_TLS_CA_FILE`: calls to the region's other services use TLS, verified against this CA, presenting
 *   the certificate above as client certificate.
 * Plaintext (nothing set) stays the default. Throws ConfigError naming every bad variable.
 */
export function parseTlsConfig(env: NodeJS.ProcessEnv = process.env): TlsConfig {
  const problems: string[] = [];
  const value = (name: string) => (env[name] && env[name].length > 0 ? env[name] : undefined);
  const certFile = value('WAYGATE_TLS_CERT_FILE');
  const keyFile = value('WAYGATE_TLS_KEY_FILE');
  const clientCaFile = value('WAYGATE_TLS_CLIENT_CA_FILE');
  const internalCaFile = value('WAYGATE_INTERNAL_TLS_CA_FILE');

  if (certFile && !keyFile) problems.push('WAYGATE_TLS_KEY_FILE: required with WAYGATE_TLS_CERT_FILE (not set)');
  if (keyFile && !certFile) problems.push('WAYGATE_TLS_CERT_FILE: required with WAYGATE_TLS_KEY_FILE (not set)');
  if (clientCaFile && !(certFile && keyFile))
    problems.push('WAYGATE_TLS_CLIENT_CA_FILE: client certificates need a TLS server: set WAYGATE_TLS_CERT_FILE and WAYGATE_TLS_KEY_FILE');

  const cert = certFile ? readPem('WAYGATE_TLS_CERT_FILE', certFile, 'certificate', problems) : undefined;
  const key = keyFile ? readPem('WAYGATE_TLS_KEY_FILE', keyFile, 'private key', problems) : undefined;
  const clientCa = clientCaFile ? readPem('WAYGATE_TLS_CLIENT_CA_FILE', clientCaFile, 'certificate', problems) : undefined;
  const internalCa = internalCaFile ? readPem('WAYGATE_INTERNAL_TLS_CA_FILE', internalCaFile, 'certificate', problems) : undefined;
  if (cert && key && !new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
    problems.push('WAYGATE_TLS_KEY_FILE: is not the private key of the certificate in WAYGATE_TLS_CERT_FILE');
  if (problems.length > 0) throw new ConfigError(problems);

  const privateKey = key ? () => key : undefined;
  return {
    ...(cert && privateKey ? { server: { certChain: cert, privateKey, ...(clientCa ? { clientCa } : {}) } } : {}),
    ...(internalCa ? { client: { ca: internalCa, ...(cert && privateKey ? { certChain: cert, privateKey } : {}) } } : {}),
  };
}
