// The committed TLS test certificates (test/fixtures/tls/README.md says how they were made).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ServerTls } from '../../node/grpc/tls.ts'

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url))

/** The name in the server certificate (CN and DNS SAN), as in Fabric's testdata/server1.pem: clients dial 127.0.0.1 with this as peer.tls.serverhostoverride. */
export const SERVER_NAME = 'dummy'
export const tlsFiles = {
  /** The CA that signed server.pem. */
  ca: fixture('ca.pem'),
  server: fixture('server.pem'),
  serverKey: fixture('server.key'),
  /** A CA that signed nothing here: trusting only it, a client must refuse the server. */
  otherCa: fixture('other-ca.pem')
}

export function serverTls (): ServerTls {
  return { cert: readFileSync(tlsFiles.server), key: readFileSync(tlsFiles.serverKey) }
}
