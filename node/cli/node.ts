import { Command } from 'commander'
import { configFileFor, loadNodeConfig } from '../config.ts'
import { boundHeapGrowth } from '../peer/memory-limits.ts'
import type { serve as Serve } from '../peer/serve.ts'
import { initLogging } from './logging.ts'

async function start (opts: { peerChaincodedev?: boolean, config?: string, loggingLevel?: string }): Promise<void> {
  const config = await loadNodeConfig({ file: await configFileFor(opts.config), chaincodeDevMode: opts.peerChaincodedev === true })
  // As Fabric's `peer node start`: the node command's level (logging.node).
  initLogging(config.logging, 'node', opts.loggingLevel)
  if (opts.peerChaincodedev === true) {
    console.log('Running in chaincode development mode')
    console.log('Set consensus to NOOPS and user starts chaincode')
  }
  boundHeapGrowth()
  // Loaded here, not at start: the peer's libraries cost every other verb their load time.
  const { serve } = await import('../peer/serve.ts') as { serve: typeof Serve }
  const running = await serve(config)
  // A summary on stdout whatever the log level (logging.node may be warning or less).
  console.log(`Weft peer ${config.peer.id} started (${config.peer.validator.enabled ? `validator, ${config.peer.validator.consensus.plugin}` : 'non-validator'}), data in ${config.peer.fileSystemPath}`)
  console.log(`  gRPC    ${running.grpc.address}   events ${running.events.address}`)
  if (running.restUrl !== undefined) console.log(`  REST    ${running.restUrl}`)
  if (running.webUrl !== undefined) console.log(`  web     ${running.webUrl}`)
  if (running.metricsUrl !== undefined) console.log(`  metrics ${running.metricsUrl}`)
  console.log(`  libp2p  ${running.multiaddrs.join(' ')}`)
  await untilStopped(running, sig => `\n${sig}`)
}

/** Waits until `what` has stopped; SIGINT (Ctrl-C) or SIGTERM meanwhile prints `said(signal)` and stops it. */
export async function untilStopped (what: { stop (): Promise<void>, stopped: Promise<void> }, said: (sig: NodeJS.Signals) => string): Promise<void> {
  const onSignal = (sig: NodeJS.Signals): void => {
    console.log(said(sig))
    void what.stop()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  await what.stopped
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
}

/** `weft node start|status|stop`, as Fabric's `peer node`. */
export function nodeCommand (): Command {
  const node = new Command('node').description('start, check or stop a peer')
  node.command('start')
    .description('start a peer (config: --config, $PEER_CFG_PATH/core.yaml, ./core.yaml or the one shipped with weft; CORE_* environment variables)')
    .option('--peer-chaincodedev', 'chaincode development mode: validator, user-started chaincode; the configured consensus plugin stays (as Fabric)')
    .option('--config <file>', 'core.yaml to read')
    .option('--logging-level <spec>', 'default level and module overrides, e.g. "warning:consensus/pbft,peer=debug" (over CORE_LOGGING_LEVEL and logging.node)')
    .action(start)
  return node
}
