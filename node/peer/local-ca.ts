// `weft network up --security`: membership services for the local network, a `weft ca start`
// child on a free loopback port with its database under the network's directory, read from the
// membersrvc.yaml `weft ca start` finds (its users table names the validators and the users).
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { MembersrvcConfig } from '../../src/ca/config.ts'
import { MemberRole } from '../../src/ca/roles.ts'
import { parseUserEntry, type UserEntry } from '../../src/ca/users.ts'
import { ConfigError } from '../../src/config/load.ts'
import { sleep, systemScheduler } from '../../src/util/scheduler.ts'
import { loadCaNodeConfig } from '../config.ts'
import { parseListenAddress } from '../host-port.ts'
import { freePorts } from '../net/free-ports.ts'
import { startWeft, stopChild, type Child } from './local-network.ts'

export interface LocalCa {
  /** host:port of its gRPC (ECA, TCA, TLSCA), for every peer's peer.pki.*.paddr. */
  address: string
  dataDir: string
  /** The membersrvc.yaml it reads, when there is one. */
  file: string | undefined
  config: MembersrvcConfig
  /** eca.users, parsed. */
  users: UserEntry[]
}

/** The CA's port, data directory (<dir>/ca) and config; refuses TLS, which the local peers are not given roots for. */
export async function layOutCa (dir: string): Promise<LocalCa> {
  const [port] = await freePorts(1)
  const { config, file } = await loadCaNodeConfig(undefined, { ...process.env, MEMBERSRVC_CA_SERVER_PORT: `127.0.0.1:${port}` })
  if (config.security.tls_enabled) throw new ConfigError(`${file ?? 'membersrvc.yaml'}: weft network up --security runs membership services without TLS (security.tls_enabled is true)`)
  const users = Object.entries(config.eca.users).map(([id, line]) => parseUserEntry(id, String(line)))
  return { address: config.server.port, dataDir: join(dir, 'ca'), file, config, users }
}

/** test_vpI and its secret for each of the `n` validators: the users table's validators, as Fabric's test networks enroll them. */
export function validatorEnrollments (ca: LocalCa, n: number): Array<{ id: string, secret: string }> {
  return Array.from({ length: n }, (_, i) => {
    const id = `test_vp${i}`
    const entry = ca.users.find(u => u.id === id)
    if (entry === undefined || (entry.role & MemberRole.validator) === 0) {
      throw new ConfigError(`vp${i} enrolls as ${id}, which ${ca.file ?? 'membersrvc.yaml'}'s eca.users does not list as a validator (role 4)`)
    }
    return { id, secret: entry.secret }
  })
}

/** Users one logs in as: clients of the table that are not registrars. */
export function loginUsers (ca: LocalCa): UserEntry[] {
  return ca.users.filter(u => u.role === MemberRole.client && u.metadata === '')
}

export interface RunningCaChild {
  /** Resolves once it accepts connections; rejects when it ends first. */
  ready: Promise<void>
  exited: Promise<string>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has ended. */
  stop (graceMs?: number): Promise<void>
}

/** Starts `weft ca start` for `ca`, its output appended to <data dir>/ca.log and its pid in ca.pid (for `weft network down`). */
export async function startCa (ca: LocalCa): Promise<RunningCaChild> {
  await mkdir(ca.dataDir, { recursive: true })
  const args = ['ca', 'start', '--data-dir', ca.dataDir, ...(ca.file === undefined ? [] : ['--config', ca.file])]
  const c = startWeft(args, { MEMBERSRVC_CA_SERVER_PORT: ca.address }, 'the CA', join(ca.dataDir, 'ca.log'))
  const pidFile = join(ca.dataDir, 'ca.pid')
  if (c.child.pid !== undefined) await writeFile(pidFile, `${c.child.pid}\n`)
  void c.exited.then(async () => { await rm(pidFile, { force: true }) })
  return {
    ready: Promise.race([listening(ca.address, c), c.ended]),
    exited: c.exited,
    stop: async (graceMs = 10_000) => { await stopChild(c, graceMs) }
  }
}

/** Polls a TCP connection to `address` until one opens (the CA listens once its authorities are ready). */
async function listening (address: string, c: Child): Promise<void> {
  const { host, port } = parseListenAddress(address, 'server.port')
  while (c.alive()) {
    const open = await new Promise<boolean>(resolve => {
      const s = connect(port, host, () => { s.destroy(); resolve(true) })
      s.once('error', () => { resolve(false) })
    })
    if (open) return
    await sleep(systemScheduler, 100)
  }
}
