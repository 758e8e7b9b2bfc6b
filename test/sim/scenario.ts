import { allPbftExtensions, fabricRulesOnly } from '../../src/consensus/pbft/config.ts'
import { SimCluster } from './cluster.ts'
import { badDigests, equivocatingPrimary, fuzzer, replayer, silent, wrongReplicaIds } from './faults.ts'
import { Prng } from './prng.ts'
import type { Settle } from './scheduler.ts'

/** The faults a random run picks one of. Byzantine ones last the whole run; the others heal. */
export const faultKinds = [
  'none', 'crash-backup', 'crash-primary', 'crash-restart-twice', 'restart-all', 'isolate-one', 'split-brain', 'lossy', 'reorder-dup',
  'byzantine-primary', 'bad-digests', 'wrong-ids', 'replay', 'fuzz', 'silent', 'fabric-byzantine-flag'
] as const
export type FaultKind = typeof faultKinds[number]

/** The faults a mixed (Fabric-rules and Weft) run picks one of. */
export const mixedFaultKinds: readonly FaultKind[] = faultKinds

export interface ScenarioReport {
  seed: number
  fault: FaultKind
  ok: boolean
  problems: string[]
  virtualMs: number
  steps: number
  requests: number
  /** Requests dropped from the liveness check because only their crashed origin had them. */
  lostInCrash: number
  /** Requests a Fabric-rules replica took during a fault, left out of the liveness check (their one broadcast may be lost). */
  unchecked: number
  maxView: number
  /** Each replica's head block hash (hex) at the end. */
  heads: string[]
  describe: string
}

/**
 * One randomized run, a pure function of `seed`: random config, link, client requests and one
 * fault; after the fault heals (byzantine faults never do) clients keep a trickle of traffic
 * going until every correct replica holds every request. Checks safety throughout and
 * liveness at the end.
 */
export interface ScenarioOptions {
  fault?: FaultKind
  settle?: Settle
  deadlineMs?: number
  /** Replicas that follow Fabric 0.6.1's rules only; the others are Weft replicas of a mixed network. */
  fabric?: readonly number[]
  /** False: no periodic view change even where the seed draws one. */
  periodicViewChange?: boolean
}

/** A Weft replica in a network with Fabric replicas: executeOnce must match theirs (config.ts). */
export const weftAmongFabric = Object.freeze({ ...allPbftExtensions, executeOnce: false })

export async function runScenario (seed: number, opts: ScenarioOptions = {}): Promise<ScenarioReport> {
  const prng = new Prng(seed)
  const fault: FaultKind = opts.fault ?? prng.pick(faultKinds)
  const K = prng.pick([2, 3, 5])
  const batchTimeout = prng.pick([100, 300, 600])
  const cluster = new SimCluster({
    seed: prng.int(2 ** 32),
    config: {
      K,
      logMultiplier: prng.pick([2, 3, 4]),
      batchSize: prng.pick([1, 2, 3, 5]),
      viewChangePeriod: prng.chance(0.1) && opts.periodicViewChange !== false ? prng.pick([1, 2]) : 0,
      timeouts: {
        batch: batchTimeout,
        request: prng.pick([1000, 1500, 2000]),
        viewChange: prng.pick([1000, 2000]),
        resendViewChange: prng.pick([1000, 2000]),
        nullRequest: prng.chance(0.1) ? 4000 : 0
      }
    },
    link: { delayMs: prng.range(1, 10), jitterMs: prng.range(0, 20), fifo: prng.chance(0.5) },
    settle: opts.settle
  })
  const { net, sched } = cluster
  const N = cluster.replicas.length
  const fabric = new Set(opts.fabric ?? [])
  if (fabric.size > 0) {
    for (const r of cluster.replicas) r.configPatch = { extensions: fabric.has(r.id) ? fabricRulesOnly : weftAmongFabric }
  }

  // --- the fault, from the moment the chaincode is deployed ---
  const faultStart = prng.range(200, 3000)
  const faultEnd = faultStart + prng.range(1000, 6000)
  const victim = fault === 'crash-primary' ? 0 : prng.range(1, N - 1)
  if (fault === 'fabric-byzantine-flag') {
    cluster.byzantine.add(victim)
    cluster.replicas[victim].configPatch = { ...cluster.replicas[victim].configPatch, byzantine: true }
  }
  await cluster.start()
  const t0 = sched.now()
  const at = (ms: number, fn: () => void | Promise<void>): void => { sched.schedule(t0 + ms - sched.now(), () => { void fn() }) }
  switch (fault) {
    case 'crash-backup':
    case 'crash-primary':
      at(faultStart, () => crash(victim))
      at(faultEnd, () => cluster.replicas[victim].boot())
      break
    case 'crash-restart-twice':
      at(faultStart, () => crash(victim))
      at(faultStart + 800, () => cluster.replicas[victim].boot())
      at(faultEnd, () => crash(0))
      at(faultEnd + 1500, () => cluster.replicas[0].boot())
      break
    case 'restart-all':
      // Every replica dies at once and comes back from its store.
      at(faultStart, () => { for (let i = 0; i < N; i++) crash(i) })
      at(faultEnd, () => { for (let i = 0; i < N; i++) cluster.replicas[i].boot() })
      break
    case 'isolate-one':
      at(faultStart, () => { net.partition = [[victim], [...Array(N).keys()].filter(i => i !== victim)] })
      at(faultEnd, () => { net.partition = undefined })
      break
    case 'split-brain':
      at(faultStart, () => { net.partition = [[0, 1], [2, 3]] })
      at(faultEnd, () => { net.partition = undefined })
      break
    case 'lossy':
      at(faultStart, () => { net.link = { ...net.link, loss: prng.pick([0.05, 0.15, 0.3]) } })
      at(faultEnd, () => { net.link = { ...net.link, loss: 0 } })
      break
    case 'reorder-dup':
      at(faultStart, () => { net.link = { ...net.link, fifo: false, jitterMs: 200, duplicate: 0.2 } })
      at(faultEnd, () => { net.link = { ...net.link, jitterMs: 10, duplicate: 0 } })
      break
    case 'byzantine-primary': cluster.byzantine.add(0); net.filters.push(equivocatingPrimary(0)); break
    case 'bad-digests': cluster.byzantine.add(victim); net.filters.push(badDigests(victim, prng.fork())); break
    case 'wrong-ids': cluster.byzantine.add(victim); net.filters.push(wrongReplicaIds(victim, N, prng.fork())); break
    case 'replay': cluster.byzantine.add(victim); net.filters.push(replayer(victim, prng.fork())); break
    case 'fuzz': cluster.byzantine.add(victim); net.filters.push(fuzzer(victim, prng.fork())); break
    case 'silent': cluster.byzantine.add(victim); net.filters.push(silent(victim)); break
    case 'fabric-byzantine-flag': break // configured before the boot
    case 'none': break
  }

  // --- client requests, to correct replicas that are up at the time ---
  const submitted: string[] = []
  const origin = new Map<string, string>()
  // A request only its (crashed) origin knew of is lost, in Fabric as here: a client would resubmit.
  let lostInCrash = 0
  const crash = async (r: number): Promise<void> => {
    const known = (id: string): boolean => cluster.txids.some(set => set.has(id))
    for (let i = submitted.length - 1; i >= 0; i--) {
      if (origin.get(submitted[i])?.startsWith(`vp${r} `) === true && !known(submitted[i])) {
        submitted.splice(i, 1)
        lostInCrash++
      }
    }
    await cluster.replicas[r].crash()
  }
  const requests = prng.range(6, 20)
  const faultOver = faultEnd + (fault === 'crash-restart-twice' ? 1500 : 0)
  // Fabric's limit: a replica broadcasts a client's request once and never again, so under a
  // fault a request taken by a Fabric-rules replica can be lost: its broadcast dropped by a
  // partition or a lossy link (unrelated commits keep postponing the view change that would
  // rescue it), still unbatched in a primary that crashes, or dropped from every store by a
  // state transfer. The client has to resubmit; such requests are checked for safety only.
  let unchecked = 0
  const mayBeLost = (to: number): boolean => fabric.has(to) && fault !== 'none'
  const submitTo = (): void => {
    const live = cluster.live()
    if (live.length === 0) return
    const to = prng.pick(live).id
    const txid = cluster.submit(to)
    if (mayBeLost(to)) { unchecked++; return }
    submitted.push(txid)
    origin.set(txid, `vp${to} at ${sched.now() - t0} ms`)
  }
  for (let i = 0; i < requests; i++) at(prng.range(0, faultEnd + 1000), submitTo)
  const healed = faultOver + 1000
  await cluster.run(healed)

  // --- liveness: keep a trickle of probe traffic until all correct replicas agree ---
  const deadline = sched.now() + (opts.deadlineMs ?? 120_000)
  const done = (): boolean => cluster.converged(submitted)
  while (!done() && sched.now() < deadline) {
    if (cluster.live().length > 0) cluster.submit(prng.pick(cluster.live()).id, 'probe', String(sched.now()))
    await cluster.run(1500, done)
  }

  const problems = await cluster.checkSafety()
  if (!done()) {
    const missing = submitted.filter(id => cluster.live().some(r => !cluster.txids[r.id].has(id)))
      .map(id => `${id} (sent to ${origin.get(id)}) missing on ${cluster.live().filter(r => !cluster.txids[r.id].has(id)).map(r => r.name).join(',')}`)
    problems.push(`no convergence by ${Math.round((deadline - t0) / 1000)} s virtual: ${missing.length > 0 ? missing.join('; ') : 'replicas at different heights'}`)
  }
  const report: ScenarioReport = {
    seed,
    fault,
    ok: problems.length === 0,
    problems,
    virtualMs: sched.now() - t0,
    steps: sched.steps,
    requests: submitted.length,
    lostInCrash,
    unchecked,
    maxView: Math.max(...cluster.live().map(r => r.status().view)),
    heads: [...cluster.heads],
    describe: (fabric.size > 0 ? `Fabric rules only: ${[...fabric].map(r => `vp${r}`).join(', ')}\n` : '') + cluster.describe()
  }
  await cluster.stop()
  return report
}
