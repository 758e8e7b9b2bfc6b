// A stand-in for chaincode in consensus unit tests: a transaction's payload `key=value` writes
// that pair under chaincode 'sim'; anything else fails.
import { create } from '@bufbuild/protobuf'
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts'
import type { TxExecutor } from '../../src/consensus/interfaces.ts'
import type { Ledger } from '../../src/ledger/ledger.ts'
import { TransactionResultSchema, type Transaction } from '../../src/protos/fabric_pb.ts'

export function testExecutor (ledger: () => Ledger, gate: () => Promise<void> | undefined = () => undefined): TxExecutor {
  return async txs => {
    await gate()
    const succeeded: Transaction[] = []
    const results = []
    for (const tx of txs) {
      const m = /^([^=]+)=(.*)$/s.exec(fromUtf8(tx.payload))
      ledger().txBegin(tx.txid)
      if (m === null) {
        ledger().txFinished(tx.txid, false)
        results.push(create(TransactionResultSchema, { txid: tx.txid, error: 'payload is not key=value', errorCode: 1 }))
        continue
      }
      await ledger().setState('sim', m[1], utf8(m[2]))
      ledger().txFinished(tx.txid, true)
      succeeded.push(tx)
      results.push(create(TransactionResultSchema, { txid: tx.txid }))
    }
    return { succeeded, results }
  }
}
