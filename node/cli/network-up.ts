import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { errorMessage } from '../../src/util/errors.ts'
import { sleep, systemScheduler, withTimeout } from '../../src/util/scheduler.ts'
import { buildWeb, webBuildNeeded } from '../web/build.ts'
import { layOutCa, loginUsers, startCa, validatorEnrollments, type LocalCa, type RunningCaChild } from '../peer/local-ca.ts'
import { layOutNetwork, startNetwork, type Consensus, type NetworkLayout } from '../peer/local-network.ts'
import { alive, runningPid, writePidFile } from '../peer/pid-file.ts'
import { untilStopped } from './node.ts'

export interface UpFlags { consensus: string, dir: string, basePort?: string, web: boolean, timeout: string, security?: boolean }

/** `weft network up [N]`: starts the network, prints its table, and stops it all on Ctrl-C (or `weft network down`). */
export async function networkUp (count: string, flags: UpFlags): Promise<void> {
  const n = Number(count)
  if (!Number.isInteger(n) || n < 1 || n > 32) throw new Error(`N must be a whole number from 1 to 32, not "${count}"`)
  if (flags.consensus !== 'noops' && flags.consensus !== 'pbft') throw new Error(`--consensus must be noops or pbft, not "${flags.consensus}"`)
  const basePort = flags.basePort === undefined ? undefined : Number(flags.basePort)
  if (basePort !== undefined && !Number.isInteger(basePort)) throw new Error(`--base-port must be a port number, not "${flags.basePort}"`)
  const timeoutMs = Number(flags.timeout) * 1000
  if (!(timeoutMs > 0)) throw new Error(`--timeout must be a number of seconds, not "${flags.timeout}"`)

  const dir = resolve(flags.dir)
  const pidFile = join(dir, 'network.pid')
  const other = await runningPid(pidFile)
  if (other !== undefined) throw new Error(`a network (pid ${other}) is already running in ${dir}; weft network down --dir ${flags.dir} stops it`)
  const removePid = await writePidFile(pidFile)
  try {
    const web = flags.web && await webAppReady()
    const ca = flags.security === true ? await layOutCa(dir) : undefined
    const security = ca === undefined
      ? undefined
      : { caAddress: ca.address, level: ca.config.security.level, hashAlgorithm: ca.config.security.hashAlgorithm, enrollments: validatorEnrollments(ca, n) }
    // The CA listens before the peers' free ports are drawn, which then cannot include its own.
    const caChild = ca === undefined ? undefined : await startLocalCa(ca, timeoutMs)
    const layout = await layOutNetwork({ n, consensus: flags.consensus as Consensus, dir, basePort, security }).catch(async (err: unknown) => { await caChild?.stop(); throw err })
    let stopping = false
    void caChild?.exited.then(how => { if (!stopping) console.error(`membership services ended (${how}); its log: ${join(ca!.dataDir, 'ca.log')}`) })
    console.log(`Starting ${n} ${flags.consensus} validator${n === 1 ? '' : 's'}${ca === undefined ? '' : ' with security enabled'} in ${dir} …`)
    const peers = startNetwork(layout, {
      web,
      timeoutMs,
      onUnexpectedExit: (p, how) => { console.error(`${p.name} ended (${how}); its log: ${join(p.dataDir, 'peer.log')}`) }
    })
    // The CA outlives the peers, which may still ask it for TCerts as they stop.
    const net = caChild === undefined ? peers : { stop: async () => { stopping = true; await peers.stop() }, stopped: peers.stopped.then(async () => { stopping = true; await caChild.stop() }) }
    // Ctrl-C stops the peers from here on, while they start too.
    let interrupted = false
    const stopped = untilStopped(net, sig => { interrupted = true; return `\n${sig}: stopping the network …` })
    const up = await peers.ready.then(() => true, async (err: unknown) => { await stopped; if (interrupted) return false; throw err })
    if (up) {
      printTable(layout, web)
      if (ca !== undefined) printCa(ca, n)
      console.log(`\nEvery peer is up${n > 1 ? ' and connected to the others' : ''}. Logs: ${dir}/vp*/peer.log${ca === undefined ? '' : `, ${ca.dataDir}/ca.log`}. Ctrl-C (or weft network down --dir ${flags.dir}) stops them all.`)
    }
    await stopped
    console.log('The network has stopped.')
  } finally {
    await removePid()
  }
}

/** Starts the CA and waits until it listens (a second or so: Ctrl-C meanwhile ends it with this process, `network down` by its ca.pid). */
async function startLocalCa (ca: LocalCa, timeoutMs: number): Promise<RunningCaChild> {
  console.log(`Starting membership services at ${ca.address} (config ${ca.file ?? 'built in'}, data in ${ca.dataDir}) …`)
  const child = await startCa(ca)
  try {
    await withTimeout(systemScheduler, child.ready, timeoutMs, `membership services did not start within ${timeoutMs / 1000} s`)
  } catch (err) {
    await child.stop()
    throw new Error(`${errorMessage(err)} (log: ${join(ca.dataDir, 'ca.log')})`)
  }
  return child
}

/** Builds the web app once here, before N peers would each build it; false when it cannot be. */
async function webAppReady (): Promise<boolean> {
  const why = await webBuildNeeded()
  if (why === undefined) return true
  console.log(`Building the web app (${why}) …`)
  try {
    await buildWeb()
    return true
  } catch (err) {
    console.error(`No web app: ${errorMessage(err)}`)
    return false
  }
}

function printTable (layout: NetworkLayout, web: boolean): void {
  printRows([
    ['NAME', 'REST', 'gRPC', 'EVENTS', ...(web ? ['WEB APP'] : []), 'PEER ID'],
    ...layout.peers.map(p => [p.name, `http://127.0.0.1:${p.ports.rest}`, `127.0.0.1:${p.ports.grpc}`, `127.0.0.1:${p.ports.events}`, ...(web ? [`http://127.0.0.1:${p.ports.web}`] : []), p.peerId])
  ])
}

/** Columns as wide as their widest cell. */
function printRows (rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => r[c].length)))
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd())
}

/** Where the CA is, and the users of its table one logs in as (at any peer). */
function printCa (ca: LocalCa, n: number): void {
  console.log(`\nMembership services (ECA, TCA, TLSCA) at ${ca.address}, its certificates in ${ca.dataDir}; vp0…vp${n - 1} enrolled as test_vp0…test_vp${n - 1}.`)
  const users = loginUsers(ca)
  if (users.length === 0) return
  console.log('Users of its table (CORE_PEER_ADDRESS=<a peer\'s gRPC> weft network login USER -p SECRET, or POST /registrar at its REST):')
  printRows([['USER', 'SECRET', 'AFFILIATION'], ...users.map(u => [u.id, u.secret, u.affiliation])])
}

/**
 * `weft network down`: SIGTERM to the `network up` process of the directory, which stops its
 * peers and CA; then to any peer, then CA, still running there (one whose parent was killed). A peer is signalled
 * once: a second signal would end it before its database is closed.
 */
export async function networkDown (flags: { dir: string }): Promise<void> {
  const dir = resolve(flags.dir)
  const up = await runningPid(join(dir, 'network.pid'))
  if (up !== undefined) {
    await terminate([up])
    console.log(`Stopped the network in ${dir}.`)
  }
  const subDirs = await readdir(dir, { withFileTypes: true }).then(es => es.filter(e => e.isDirectory()).map(e => join(dir, e.name)), () => [])
  const running = async (file: string): Promise<number[]> => (await Promise.all(subDirs.map(async d => await runningPid(join(d, file))))).filter((p): p is number => p !== undefined)
  const peers = await running('peer.pid')
  await terminate(peers)
  if (peers.length > 0) console.log(`Stopped ${peers.length} peer${peers.length === 1 ? '' : 's'} left running in ${dir}.`)
  // After the peers, as `up` stops them.
  const cas = await running('ca.pid')
  await terminate(cas)
  if (cas.length > 0) console.log(`Stopped the membership services left running in ${dir}.`)
  if (up === undefined && peers.length === 0 && cas.length === 0) console.log(`Nothing runs in ${dir}.`)
}

/** SIGTERM, and SIGKILL to those still running 20 s later; resolves once all have ended. */
async function terminate (pids: number[]): Promise<void> {
  for (const pid of pids) process.kill(pid, 'SIGTERM')
  for (let waited = 0; pids.some(alive); waited += 100) {
    if (waited >= 20_000) {
      for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL')
      break
    }
    await sleep(systemScheduler, 100)
  }
}
