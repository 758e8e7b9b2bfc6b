// The Node peer's web app: serves dist/web at web.address and /weft/bootstrap.json, building the
// app first (in the background, with a "building" page meanwhile) when it is missing or stale.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { CoreConfig } from '../../src/config/schema.ts'
import { createLogger } from '../../src/util/logger.ts'
import { buildWeb, REPO_ROOT, webBuildNeeded } from './build.ts'
import { startWebServer, webDistDir, type BootstrapInfo, type WebServer } from './static-server.ts'

export { BOOTSTRAP_PATH, type BootstrapInfo } from './static-server.ts'
import { errorMessage } from '../../src/util/errors.ts'

const log = createLogger('web')

/** The bootstrap answer for a peer: its WebSockets multiaddrs and what a tab must share with the network. */
export function bootstrapInfo (config: CoreConfig, peerId: string, multiaddrs: string[], validators?: BootstrapInfo['validators']): BootstrapInfo {
  const ds = config.ledger.state.dataStructure
  const ws = multiaddrs.filter(m => /\/wss?(\/|$)/.test(m) && !m.includes('/p2p-circuit'))
  return {
    peerId,
    name: config.peer.id,
    multiaddrs: ws.map(m => m.includes('/p2p/') ? m : `${m}/p2p/${peerId}`),
    networkId: config.peer.networkId,
    consensus: config.peer.validator.consensus.plugin,
    securityEnabled: config.security.enabled,
    // A tab signs its users' transactions at the network's level and hash.
    ...(config.security.enabled ? { security: { level: config.security.level, hashAlgorithm: config.security.hashAlgorithm } } : {}),
    ledger: { stateStructure: ds.name, numBuckets: ds.configs.numBuckets, maxGroupingAtEachLevel: ds.configs.maxGroupingAtEachLevel },
    ...(validators !== undefined ? { validators } : {})
  }
}

export interface WebApp extends WebServer {
  /** Resolves once the app is built and served (at once when it was current). */
  ready: Promise<void>
}

export interface WebAppOptions {
  address: string
  bootstrap: () => BootstrapInfo
  repoRoot?: string
  /** Build dist/web when missing or stale (default true). */
  build?: boolean
}

export async function startWebApp (opts: WebAppOptions): Promise<WebApp> {
  const repoRoot = opts.repoRoot ?? REPO_ROOT
  const root = webDistDir(repoRoot)
  const why = opts.build === false ? undefined : await webBuildNeeded(repoRoot, root)
  // A stale build is served while the new one is made; a missing one gets a waiting page.
  const missing = why !== undefined && !existsSync(join(root, 'index.html'))
  let waiting: string | undefined = missing ? 'The web app is being built (vite build); it takes a few seconds the first time.' : undefined
  const abort = new AbortController()
  const server = await startWebServer({ address: opts.address, root, bootstrap: opts.bootstrap, notReady: () => waiting })
  let ready = Promise.resolve()
  if (why !== undefined) {
    log.info(`building the web app: ${why}`)
    const started = Date.now()
    ready = buildWeb({ repoRoot, signal: abort.signal, onOutput: line => log.info(`vite: ${line}`) }).then(() => {
      waiting = undefined
      log.info(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${server.url}`)
    }, (err: Error) => {
      if (missing) waiting = `The web app could not be built: ${err.message.split('\n')[0]}. Run npm run build:web and reload.`
      if (!abort.signal.aborted) log.error(`web app build failed: ${errorMessage(err)}`)
    })
  }
  return {
    ...server,
    ready,
    async close () {
      abort.abort()
      await server.close()
    }
  }
}
