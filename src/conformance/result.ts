/** The outcome of one conformance case. */
export interface CaseResult {
  name: string
  ok: boolean
  detail?: string
}

export type Obj = Record<string, unknown>

export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

export function caseName (c: unknown): string {
  return isObject(c) && typeof c.name === 'string' ? c.name : '<unnamed case>'
}
