// `weft tx TXID`: where a transaction ended, from the peer's REST service: in a block (the
// transaction, decoded), rejected by the peer (with the chaincode's error), or unknown there.
import { fromBinary } from '@bufbuild/protobuf'
import { Command } from 'commander'
import { fromBase64, fromUtf8 } from '../../src/crypto/bytes.ts'
import { ChaincodeDeploymentSpecSchema, ChaincodeInvocationSpecSchema, type ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'
import { Transaction_Type } from '../../src/protos/fabric_pb.ts'
import { CONNECT_TIMEOUT, runClientVerb, withConfigOption, type ClientFlags, type LocalPeer } from './peer-client.ts'
import { restGet } from './rest-client.ts'

/** Exit statuses of `weft tx`: 0 committed, 1 rejected (or the peer could not be asked), 2 unknown. */
export const txExit = { committed: 0, rejected: 1, unknown: 2 } as const

/** A committed transaction as GET /transactions/{id} gives it (Go's JSON of protos.Transaction). */
interface TransactionJson { type?: number, txid?: string, payload?: string | null, timestamp?: { seconds?: number, nanos?: number } | null }

/** `block` is missing when the peer does not say (a Fabric peer's REST service does not). */
export type TxLookup =
  | { status: 'committed', block?: number, tx: TransactionJson }
  | { status: 'rejected', error: string, at: string }
  | { status: 'unknown' }

export async function lookupTransaction (peer: LocalPeer, txid: string): Promise<TxLookup> {
  const a = await restGet(peer.restAddress, peer.tls, `/transactions/${encodeURIComponent(txid)}`, CONNECT_TIMEOUT)
  if (a.status === 200) {
    // Weft's REST service names the block in a header (node/rest/chain-handlers.ts).
    const block = a.headers['weft-block']
    return { status: 'committed', block: typeof block === 'string' ? Number(block) : undefined, tx: JSON.parse(a.body) as TransactionJson }
  }
  if (a.status === 410) {
    const r = JSON.parse(a.body) as { reason: string, rejectedAt: string }
    return { status: 'rejected', error: r.reason, at: r.rejectedAt }
  }
  if (a.status === 404) return { status: 'unknown' }
  throw new Error(`the REST service at ${peer.restAddress} answered ${a.status}: ${a.body.trim()}`)
}

/** What the payload says: the chaincode and its arguments. */
function describeTransaction (tx: TransactionJson): string[] {
  const type = tx.type ?? 0
  const lines = [`type: ${Transaction_Type[type] ?? type}`]
  if (tx.timestamp?.seconds !== undefined) lines.push(`timestamp: ${new Date(tx.timestamp.seconds * 1000 + Math.floor((tx.timestamp.nanos ?? 0) / 1e6)).toISOString()}`)
  let spec: ChaincodeSpec | undefined
  try {
    const payload = fromBase64(tx.payload ?? '')
    spec = type === Transaction_Type.CHAINCODE_DEPLOY
      ? fromBinary(ChaincodeDeploymentSpecSchema, payload).chaincodeSpec
      : fromBinary(ChaincodeInvocationSpecSchema, payload).chaincodeSpec
  } catch {
    return [...lines, 'payload: not a chaincode spec']
  }
  if (spec !== undefined) {
    lines.push(`chaincode: ${spec.chaincodeID?.name ?? ''}`)
    lines.push(`args: ${JSON.stringify((spec.ctorMsg?.args ?? []).map(fromUtf8))}`)
  }
  return lines
}

export function txCommand (): Command {
  return withConfigOption(new Command('tx'))
    .description(`print where a transaction ended, from the peer's REST service (rest.address): its block and contents, or why it was rejected; exit status ${txExit.committed} committed, ${txExit.rejected} rejected, ${txExit.unknown} unknown to the peer`)
    .argument('<txid>', 'the transaction id (invoke printed it; a deploy\'s is the chaincode name)')
    .action(async (txid: string, flags: ClientFlags) => {
      await runClientVerb(flags, async peer => {
        const found = await lookupTransaction(peer, txid)
        if (found.status === 'committed') {
          process.stdout.write(`committed${found.block === undefined ? '' : ` in block ${found.block}`}\n${describeTransaction(found.tx).join('\n')}\n`)
        } else if (found.status === 'rejected') {
          process.stdout.write(`rejected: ${found.error}\n`)
          process.exitCode = txExit.rejected
        } else {
          process.stdout.write(`unknown: no block holds ${txid}, and the peer remembers no rejection of it\n`)
          process.exitCode = txExit.unknown
        }
      })
    })
}
