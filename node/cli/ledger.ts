import { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { replayLegacyChain, type LegacyChainVector } from '../../src/chaincode/replay.ts'
import { errorMessage } from '../../src/util/errors.ts'

/** `weft ledger replay FILE`: re-executes a chain recorded from a Fabric 0.6.1 peer and compares every block. */
export function ledgerCommand (): Command {
  const ledger = new Command('ledger').description('work with recorded ledgers')
  ledger.command('replay')
    .description('replay a legacy-chain file (blocks made by a Fabric 0.6.1 peer) through Weft\'s executor and ledger')
    .argument('<file>', 'legacy-chain JSON file')
    .action(async (file: string) => {
      let vector: LegacyChainVector
      try {
        vector = JSON.parse(await readFile(file, 'utf8')) as LegacyChainVector
        if (!Array.isArray(vector.blocks)) throw new Error('no "blocks" array')
      } catch (err) {
        console.error(`error: ${file}: ${errorMessage(err)}`)
        process.exitCode = 2
        return
      }
      const r = await replayLegacyChain(vector)
      for (const b of r.blocks) {
        console.log(`block ${b.number}: ${b.transactions} tx, hash ${b.hash.slice(0, 16)}… ${b.ok ? 'equal' : `DIFFERS: ${b.problems.join('; ')}`}`)
      }
      for (const p of r.finalStateProblems) console.log(`final state: ${p}`)
      console.log(r.ok ? `replayed ${r.blocks.length} blocks, every hash equal` : 'replay differs from the recorded chain')
      process.exitCode = r.ok ? 0 : 1
    })
  return ledger
}
