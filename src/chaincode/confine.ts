import { parse, type Node, type Pattern } from 'acorn'
import { asChaincode, type Chaincode } from './shim/chaincode.ts'

/**
 * Confinement of NODE chaincode. A worker (worker_threads or Web Worker) first calls SES's
 * `lockdown()`, which freezes every intrinsic and tames the Function constructors; the chaincode
 * then runs in a Compartment whose global holds only what `confinedGlobals` lists. No `process`,
 * `require`, `import()`, `fetch`, timers, file system or network: the shim's stub is its only way out.
 */

/** A chaincode module the sandbox will not run; the message says why. */
export class ChaincodeRefusedError extends Error {
  constructor (reason: string) {
    super(`chaincode refused: ${reason}`)
    this.name = 'ChaincodeRefusedError'
  }
}

/** The part of SES's Compartment that confinement uses (installed globally by `import 'ses'`). */
interface CompartmentLike { evaluate (source: string): unknown }
type CompartmentCtor = new (options: { __options__: true, globals: Record<string, unknown> }) => CompartmentLike

/**
 * Rewrites a package's ES module as a script a Compartment evaluates to a promise of its exports:
 * `export` keywords dropped, export lists turned into the returned object. Imports of any kind are
 * refused: a package is one self-contained module, and a sandboxed one has nothing to import.
 */
export function moduleToScript (source: string): string {
  let program: Node & { body: Node[] }
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module' }) as Node & { body: Node[] }
  } catch (err) {
    throw new ChaincodeRefusedError(`its source does not parse as an ES module: ${(err as Error).message}`)
  }
  refuseImports(program)
  const exported = new Map<string, string>()
  const cuts: Array<[number, number, string]> = []
  for (const stmt of program.body) {
    const s = stmt as any
    switch (stmt.type) {
      case 'ImportDeclaration':
        throw new ChaincodeRefusedError(`it imports '${s.source.value}'; a chaincode module cannot import anything (bundle its own helpers in)`)
      case 'ExportAllDeclaration':
        throw new ChaincodeRefusedError(`it re-exports from '${s.source.value}'; a chaincode module cannot import anything`)
      case 'ExportNamedDeclaration':
        if (s.source != null) throw new ChaincodeRefusedError(`it re-exports from '${s.source.value}'; a chaincode module cannot import anything`)
        if (s.declaration != null) {
          for (const name of declaredNames(s.declaration)) exported.set(name, name)
          cuts.push([stmt.start, s.declaration.start, ''])
        } else {
          for (const spec of s.specifiers) exported.set(nameOf(spec.exported), nameOf(spec.local))
          cuts.push([stmt.start, stmt.end, ''])
        }
        break
      case 'ExportDefaultDeclaration': {
        const id = s.declaration.id?.name as string | undefined
        if (id !== undefined) {
          exported.set('default', id)
          cuts.push([stmt.start, s.declaration.start, ''])
        } else {
          exported.set('default', '__weftDefault')
          cuts.push([stmt.start, s.declaration.start, 'const __weftDefault = '])
        }
        break
      }
    }
  }
  let body = ''
  let at = 0
  for (const [from, to, text] of cuts) {
    body += source.slice(at, from) + text
    at = to
  }
  body += source.slice(at)
  const members = [...exported].map(([name, local]) => `${JSON.stringify(name)}: ${local}`).join(', ')
  return `(async () => {\n${body}\n;return { ${members} }\n})()`
}

/** Evaluates a package in a fresh Compartment; lockdown() must have run in this realm. */
export async function confinedChaincode (source: string, log: (level: string, text: string) => void): Promise<Chaincode> {
  const Compartment = (globalThis as { Compartment?: CompartmentCtor }).Compartment
  if (Compartment === undefined) throw new Error('confinedChaincode needs SES: import "ses" and call lockdown() first')
  const script = moduleToScript(source)
  const compartment = new Compartment({ __options__: true, globals: confinedGlobals(log) })
  let exports: unknown
  try {
    exports = await compartment.evaluate(script)
  } catch (err) {
    throw new ChaincodeRefusedError(`loading it failed: ${(err as Error).message}`)
  }
  const mod = exports as Record<string, unknown>
  return asChaincode(typeof mod.init === 'function' ? mod : mod.default)
}

/**
 * What a chaincode's global holds besides the frozen intrinsics (which include no clock and no
 * randomness: SES makes Date.now and Math.random throw, so a chaincode stays deterministic).
 */
function confinedGlobals (log: (level: string, text: string) => void): Record<string, unknown> {
  const harden = (globalThis as unknown as { harden: <T>(x: T) => T }).harden
  const line = (level: string) => (...parts: unknown[]) => { log(level, parts.map(p => typeof p === 'string' ? p : safeString(p)).join(' ')) }
  return harden({
    console: { log: line('info'), info: line('info'), warn: line('warn'), error: line('error'), debug: line('debug') },
    TextEncoder,
    TextDecoder,
    // Shadow what hosts or SES leave among the shared globals.
    WebAssembly: undefined,
    lockdown: undefined
  })
}

function safeString (value: unknown): string {
  try { return JSON.stringify(value) ?? String(value) } catch { return String(value) }
}

function refuseImports (node: unknown): void {
  if (typeof node !== 'object' || node === null) return
  const n = node as { type?: unknown, meta?: { name?: string } }
  if (n.type === 'ImportExpression') throw new ChaincodeRefusedError('it calls import(); a chaincode module cannot load code')
  if (n.type === 'MetaProperty' && n.meta?.name === 'import') throw new ChaincodeRefusedError('it reads import.meta; a chaincode module has none')
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach(refuseImports)
    else if (typeof value === 'object' && value !== null) refuseImports(value)
  }
}

function declaredNames (decl: any): string[] {
  if (decl.type === 'VariableDeclaration') return decl.declarations.flatMap((d: { id: Pattern }) => patternNames(d.id))
  return [decl.id.name]
}

function patternNames (p: any): string[] {
  switch (p.type) {
    case 'Identifier': return [p.name]
    case 'ObjectPattern': return p.properties.flatMap((prop: any) => patternNames(prop.type === 'RestElement' ? prop.argument : prop.value))
    case 'ArrayPattern': return p.elements.flatMap((e: any) => e === null ? [] : patternNames(e))
    case 'RestElement': return patternNames(p.argument)
    case 'AssignmentPattern': return patternNames(p.left)
    default: return []
  }
}

function nameOf (n: { type: string, name?: string, value?: unknown }): string {
  return n.type === 'Identifier' ? n.name! : String(n.value)
}
