import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { errorMessage } from '../../src/util/errors.ts'
import { sleep, systemScheduler } from '../../src/util/scheduler.ts'
import { buildWeb, webBuildNeeded } from '../web/build.ts'
import { layOutNetwork, startNetwork, type Consensus, type NetworkLayout } from '../peer/local-network.ts'
import { alive, runningPid, writePidFile } from '../peer/pid-file.ts'
import { untilStopped } from './node.ts'

export interface UpFlags { consensus: string, dir: string, basePort?: string, web: boolean, timeout: string }

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
    const layout = await layOutNetwork({ n, consensus: flags.consensus as Consensus, dir, basePort })
    console.log(`Starting ${n} ${flags.consensus} validator${n === 1 ? '' : 's'} in ${dir} …`)
    const net = startNetwork(layout, {
      web,
      timeoutMs,
      onUnexpectedExit: (p, how) => { console.error(`${p.name} ended (${how}); its log: ${join(p.dataDir, 'peer.log')}`) }
    })
    // Ctrl-C stops the peers from here on, while they start too.
    let interrupted = false
    const stopped = untilStopped(net, sig => { interrupted = true; return `\n${sig}: stopping the network …` })
    const up = await net.ready.then(() => true, async (err: unknown) => { await stopped; if (interrupted) return false; throw err })
    if (up) {
      printTable(layout, web)
      console.log(`\nEvery peer is up${n > 1 ? ' and connected to the others' : ''}. Logs: ${dir}/vp*/peer.log. Ctrl-C (or weft network down --dir ${flags.dir}) stops them all.`)
    }
    await stopped
    console.log('The network has stopped.')
  } finally {
    await removePid()
  }
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
  const rows = [
    ['NAME', 'REST', 'gRPC', 'EVENTS', ...(web ? ['WEB APP'] : []), 'PEER ID'],
    ...layout.peers.map(p => [p.name, `http://127.0.0.1:${p.ports.rest}`, `127.0.0.1:${p.ports.grpc}`, `127.0.0.1:${p.ports.events}`, ...(web ? [`http://127.0.0.1:${p.ports.web}`] : []), p.peerId])
  ]
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => r[c].length)))
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd())
}

/**
 * `weft network down`: SIGTERM to the `network up` process of the directory, which stops its
 * peers; then to any peer still running there (one whose parent was killed). A peer is signalled
 * once: a second signal would end it before its database is closed.
 */
export async function networkDown (flags: { dir: string }): Promise<void> {
  const dir = resolve(flags.dir)
  const up = await runningPid(join(dir, 'network.pid'))
  if (up !== undefined) {
    await terminate([up])
    console.log(`Stopped the network in ${dir}.`)
  }
  const peerDirs = await readdir(dir, { withFileTypes: true }).then(es => es.filter(e => e.isDirectory()).map(e => join(dir, e.name)), () => [])
  const peers = (await Promise.all(peerDirs.map(async d => await runningPid(join(d, 'peer.pid'))))).filter((p): p is number => p !== undefined)
  await terminate(peers)
  if (peers.length > 0) console.log(`Stopped ${peers.length} peer${peers.length === 1 ? '' : 's'} left running in ${dir}.`)
  if (up === undefined && peers.length === 0) console.log(`Nothing runs in ${dir}.`)
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
