import type { ExecutionObserver } from '../chaincode/executor.ts'
import type { EventHub } from '../events/hub.ts'
import type { Ledger } from '../ledger/ledger.ts'
import { Transaction_Type } from '../protos/fabric_pb.ts'
import type { Scheduler } from '../util/scheduler.ts'

/** Executions of one kind of chaincode transaction since the node was created. */
export interface ChaincodeCalls {
  calls: number
  errors: number
  /** Time spent executing them, in milliseconds. */
  totalMs: number
}

/** Figures for the metrics endpoint. Counters start when the node is created. */
export interface PeerMetrics {
  height: number
  blocksCommitted: number
  transactionsCommitted: number
  /** When the last block was written (scheduler ms), undefined before any. */
  lastCommitMs?: number
  /** Chaincode executions on this peer (a validator's: others forward their transactions). */
  chaincode: Record<'deploy' | 'invoke' | 'query', ChaincodeCalls>
  /** Peers with a registered chat. */
  peers: number
  /** Event hub consumers with at least one interest, and what the hub took, refused and delivered. */
  eventClients: number
  eventsAccepted: number
  eventsRefused: number
  eventDeliveries: number
}

/** The counters behind PeerMetrics: blocks written, and chaincode executions as the executor reports them. */
export class PeerCounters {
  private blocks = 0
  private transactions = 0
  private lastCommitMs?: number
  private readonly chaincode: PeerMetrics['chaincode'] = { deploy: noCalls(), invoke: noCalls(), query: noCalls() }
  /** Ends the block count (the ledger is about to close). */
  readonly stop: () => void
  /** For the executor: times every deploy, invoke and query it runs. */
  readonly observer: ExecutionObserver

  constructor (private readonly ledger: Ledger, scheduler: Scheduler) {
    this.stop = ledger.onBlock(({ block }) => {
      this.blocks++
      this.transactions += block.transactions.length
      this.lastCommitMs = scheduler.now()
    })
    this.observer = {
      now: () => scheduler.now(),
      executed: (tx, ms, error) => {
        const c = tx.type === Transaction_Type.CHAINCODE_DEPLOY ? this.chaincode.deploy : tx.type === Transaction_Type.CHAINCODE_QUERY ? this.chaincode.query : this.chaincode.invoke
        c.calls++
        c.totalMs += ms
        if (error !== undefined) c.errors++
      }
    }
  }

  metrics (hub: EventHub, peers: number): PeerMetrics {
    const { stats } = hub
    return {
      height: this.ledger.height,
      blocksCommitted: this.blocks,
      transactionsCommitted: this.transactions,
      lastCommitMs: this.lastCommitMs,
      chaincode: structuredClone(this.chaincode),
      peers,
      eventClients: hub.consumerCount,
      eventsAccepted: stats.accepted,
      eventsRefused: stats.refused,
      eventDeliveries: stats.delivered
    }
  }
}

function noCalls (): ChaincodeCalls { return { calls: 0, errors: 0, totalMs: 0 } }
