// JS chaincode the page can deploy: the bundled examples (loaded on first use) and pasted ES
// module source. A NODE chaincode spec names its code by chaincodeID.path; the platform's
// packageChaincode looks the path up here.
import { utf8 } from '../../src/crypto/bytes.ts'
import type { ChaincodeSpec } from '../../src/protos/chaincode_pb.ts'

export interface ExampleInfo {
  name: string
  title: string
  /** Constructor arguments, function first. */
  deploy: string[]
  invoke: string[]
  query: string[]
  /** Argument hints for the console. */
  help: string
}

export const EXAMPLES: ExampleInfo[] = [
  { name: 'example02', title: 'chaincode_example02 (asset transfer)', deploy: ['init', 'a', '100', 'b', '200'], invoke: ['invoke', 'a', 'b', '10'], query: ['query', 'a'], help: 'invoke <fn> A B X moves X from A to B · invoke delete A · query query A' },
  { name: 'map', title: 'map (key/value store)', deploy: ['init'], invoke: ['put', 'k1', 'hello'], query: ['get', 'k1'], help: 'invoke put K V · invoke remove K · query get K · query keys' },
  { name: 'events', title: 'eventsender (chaincode events)', deploy: ['init'], invoke: ['invoke', 'hello'], query: ['query'], help: 'invoke <fn> ARGS… emits event "evtsender" · query' }
]

let examples: Promise<typeof import('virtual:weft-examples')> | undefined

/** The examples (a separate chunk, fetched the first time one is needed). */
function loadExamples (): Promise<typeof import('virtual:weft-examples')> {
  examples ??= import('virtual:weft-examples')
  return examples
}

function pick (all: Record<string, string>, name: string): string {
  const src = all[name]
  if (src === undefined) throw new Error(`no example chaincode "${name}" (have: ${Object.keys(all).join(', ')})`)
  return src
}

/** An example's bundled source: what is deployed. */
export async function exampleSource (name: string): Promise<string> {
  return pick((await loadExamples()).exampleSources, name)
}

/** An example's TypeScript as written in examples/chaincode: what the console shows. */
export async function exampleOriginal (name: string): Promise<string> {
  return pick((await loadExamples()).exampleOriginals, name)
}

/** Sources by chaincodeID.path, for PeerNodePlatform.packageChaincode. */
export class ChaincodeSources {
  private readonly byPath = new Map<string, string>()
  private n = 0

  /** Registers `source` and returns the path a ChaincodeSpec names it by. */
  add (source: string, label = 'pasted'): string {
    for (const [p, s] of this.byPath) if (s === source) return p
    const path = `${label}:${++this.n}`
    this.byPath.set(path, source)
    return path
  }

  readonly packageChaincode = async (spec: ChaincodeSpec): Promise<Uint8Array> => {
    const path = spec.chaincodeID?.path ?? ''
    const source = this.byPath.get(path)
    if (source === undefined) throw new Error(`no chaincode source registered as "${path}" in this page`)
    checkModuleSource(source)
    return utf8(source)
  }
}

/** A cheap early check with a clear message; the runtime's import is the real one. */
export function checkModuleSource (source: string): void {
  if (source.trim() === '') throw new Error('the chaincode source is empty')
  if (!/\bexport\b/.test(source)) throw new Error('the chaincode source must be an ES module exporting init, invoke and query (plain JavaScript; bundle TypeScript first)')
  if (/^\s*import\s[^(]/m.test(source)) throw new Error('the chaincode source must be self-contained: it may not import other modules (bundle it first)')
}
