import { replayLegacyChain, UnportedChaincodeError, type LegacyChainVector } from '../chaincode/replay.ts'
import { checkBlockHashCase } from './block-hash.ts'
import { checkMessageCase } from './messages.ts'
import { caseName, isObject, type CaseResult, type Obj } from './result.ts'
import { checkStateHashCase } from './state-hash.ts'

export type VectorKind = 'block-hash' | 'messages' | 'state-hash' | 'legacy-chain'

export interface CaseOutcome extends CaseResult {
  kind: VectorKind
  /** True when Weft cannot check this kind yet: reported, never counted as passed. */
  skipped?: boolean
}

/** Recognises a vector file by its shape (file names of unseen vectors may differ). */
export function detectKind (content: unknown): VectorKind {
  if (!isObject(content)) throw new Error('a vector file must hold a JSON object')
  if (Array.isArray(content.blocks) && (Array.isArray(content.workload) || Array.isArray(content.chaincodes))) return 'legacy-chain'
  const cases = content.cases
  if (!Array.isArray(cases) || cases.length === 0) throw new Error('unknown vector kind: no "cases" array and not a legacy chain')
  const first = cases.find(isObject)
  if (first === undefined) throw new Error('unknown vector kind: cases hold no objects')
  if ('block_proto_hex' in first) return 'block-hash'
  if ('batches' in first) return 'state-hash'
  if ('proto_hex' in first && 'type' in first) return 'messages'
  throw new Error('unknown vector kind: cases have neither block_proto_hex, batches nor proto_hex')
}

/** Runs every case of one vector file. A checker that throws fails its case; it never aborts the run. */
export async function runVectorFile (content: unknown): Promise<CaseOutcome[]> {
  const kind = detectKind(content)
  const c = content as Obj
  if (kind === 'legacy-chain') return checkLegacyChain(c)
  const out: CaseOutcome[] = []
  for (const k of c.cases as unknown[]) {
    out.push(...await guarded(kind, caseName(k), async () => [await check(kind, k)]))
  }
  return out
}

/** Replays the chain through the executor and ledger: one case per block, one for the final state. */
async function checkLegacyChain (c: Obj): Promise<CaseOutcome[]> {
  const kind = 'legacy-chain'
  const blocks = c.blocks as unknown[]
  try {
    const r = await replayLegacyChain(c as unknown as LegacyChainVector)
    return [
      ...r.blocks.map(b => ({ kind, name: `block ${b.number}`, ok: b.ok, detail: b.problems.join('; ') || undefined })),
      { kind, name: 'final state', ok: r.finalStateProblems.length === 0, detail: r.finalStateProblems.join('; ') || undefined }
    ] as CaseOutcome[]
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err)
    const skipped = err instanceof UnportedChaincodeError
    return blocks.map((b, i) => ({ kind, name: `block ${isObject(b) && typeof b.number === 'number' ? b.number : i}`, ok: false, skipped, detail: skipped ? detail : `replay error: ${detail}` }))
  }
}

function check (kind: VectorKind, c: unknown): CaseResult | Promise<CaseResult> {
  switch (kind) {
    case 'block-hash': return checkBlockHashCase(c)
    case 'messages': return checkMessageCase(c)
    case 'state-hash': return checkStateHashCase(c)
    default: throw new Error(`no case checker for ${kind}`)
  }
}

async function guarded (kind: VectorKind, name: string, fn: () => Promise<CaseResult[]>): Promise<CaseOutcome[]> {
  try {
    return (await fn()).map(r => ({ kind, ...r }))
  } catch (err) {
    return [{ kind, name, ok: false, detail: `checker error: ${err instanceof Error ? err.message : String(err)}` }]
  }
}

export function formatOutcome (o: CaseOutcome): string {
  const status = o.skipped === true ? 'SKIP' : o.ok ? 'PASS' : 'FAIL'
  return `${status} ${o.kind}/${o.name}${o.detail !== undefined && !o.ok ? `: ${o.detail}` : ''}`
}
