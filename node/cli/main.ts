import { Command, CommanderError } from 'commander'
import { createRequire } from 'node:module'
import { caCommand } from './ca.ts'
import { chaincodeCommand } from './chaincode.ts'
import { conformanceCommand } from './conformance.ts'
import { ledgerCommand } from './ledger.ts'
import { networkCommand } from './network.ts'
import { nodeCommand } from './node.ts'
import { addNodeClientVerbs } from './node-client.ts'
import { txCommand } from './tx.ts'

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string, description: string }

/** Builds the `weft` command line; every verb lives in its own file. */
export function buildProgram (): Command {
  const program = new Command('weft')
    .description(pkg.description)
    .version(pkg.version, '-v, --version', 'print the Weft version')
    .showHelpAfterError()
  program.addCommand(caCommand())
  program.addCommand(conformanceCommand())
  program.addCommand(ledgerCommand())
  program.addCommand(addNodeClientVerbs(nodeCommand()))
  program.addCommand(chaincodeCommand())
  program.addCommand(networkCommand())
  program.addCommand(txCommand())
  return program
}

/** Runs the CLI and returns the process exit code (never throws). */
export async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  const override = (c: Command): void => { c.exitOverride(); c.commands.forEach(override) }
  override(program)
  try {
    await program.parseAsync(argv)
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    console.error(`weft: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  }
}
