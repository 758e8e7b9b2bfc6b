import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { certDerToPem } from '../../src/crypto/fabric/pem.ts'
import type { MembersrvcConfig } from '../../src/ca/config.ts'
import { createMembershipServices, type MembershipServices } from '../../src/ca/membership.ts'
import { errorMessage } from '../../src/util/errors.ts'
import { createLogger } from '../../src/util/logger.ts'
import { systemScheduler } from '../../src/util/scheduler.ts'
import { startGrpcServer, type GrpcServer } from '../grpc/server.ts'
import { openLevelDB } from '../storage.ts'
import { addMembershipServices } from './services.ts'

const log = createLogger('server')

export interface RunningCa {
  readonly services: MembershipServices
  readonly grpc: GrpcServer
  /** Where the database and the authorities' certificates (eca.cert, tca.cert, tlsca.cert) are. */
  readonly dataDir: string
  stop (): Promise<void>
  /** Settles when stop() has finished. */
  readonly stopped: Promise<void>
}

/** server.rootpath/server.cadir, as Fabric's membersrvc keeps its state. */
export function caDataDir (config: MembersrvcConfig): string {
  return join(config.server.rootpath, config.server.cadir)
}

/**
 * Runs membership services as Fabric's membersrvc: the store in LevelDB under `dataDir`, the
 * authorities' certificates there as PEM (for peers' *.rootcert.file), gRPC on server.port
 * (TLS with server.tls.* when security.tls_enabled).
 */
export async function serveCa (config: MembersrvcConfig, dataDir = caDataDir(config)): Promise<RunningCa> {
  await mkdir(dataDir, { recursive: true })
  const kv = await openLevelDB(join(dataDir, 'db'))
  let services: MembershipServices
  let grpc: GrpcServer
  try {
    services = await createMembershipServices({ store: kv, scheduler: systemScheduler }, config)
    for (const a of [services.eca.authority, services.tca.authority, services.tlsca.authority]) {
      await writeFile(join(dataDir, `${a.name}.cert`), certDerToPem(a.raw))
    }
    const tls = config.security.tls_enabled ? { certFile: config.server.tls.cert.file, keyFile: config.server.tls.key.file } : undefined
    grpc = await startGrpcServer({ address: config.server.port, key: 'server.port', tls }, server => { addMembershipServices(server, services) })
  } catch (err) {
    await kv.close()
    throw err
  }
  let resolveStopped!: () => void
  const stopped = new Promise<void>(resolve => { resolveStopped = resolve })
  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    stopping ??= (async () => {
      await grpc.close()
      await kv.close().catch((err: unknown) => { log.error(`closing ${dataDir}: ${errorMessage(err)}`) })
      resolveStopped()
    })()
    await stopping
  }
  return { services, grpc, dataDir, stop, stopped }
}
