import { fromBase64, toBase64 } from '../bytes.ts'

export interface PemBlock {
  readonly type: string
  readonly headers: Record<string, string>
  readonly bytes: Uint8Array
}

/** Go's pem.EncodeToMemory without headers: base64 in 64-column lines. */
export function encodePem (type: string, der: Uint8Array): string {
  const b64 = toBase64(der)
  let body = ''
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n'
  return `-----BEGIN ${type}-----\n${body}-----END ${type}-----\n`
}

/** The first PEM block in the text (Go's pem.Decode), or undefined when there is none. */
export function decodePem (text: string): PemBlock | undefined {
  const m = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text)
  if (m === null) return undefined
  const headers: Record<string, string> = {}
  const lines = m[2].split(/\r?\n/)
  let i = 0
  for (; i < lines.length && lines[i].includes(':'); i++) {
    const at = lines[i].indexOf(':')
    headers[lines[i].slice(0, at).trim()] = lines[i].slice(at + 1).trim()
  }
  try {
    return { type: m[1], headers, bytes: fromBase64(lines.slice(i).join('').replace(/\s/g, '')) }
  } catch {
    return undefined
  }
}

/** primitives.DERCertToPEM. */
export function certDerToPem (der: Uint8Array): string {
  return encodePem('CERTIFICATE', der)
}

/** primitives.PEMtoDER: the DER of a CERTIFICATE block without headers. */
export function pemToCertDer (pem: string): Uint8Array {
  const block = decodePem(pem)
  if (block === undefined) throw new Error('No PEM block available')
  if (block.type !== 'CERTIFICATE' || Object.keys(block.headers).length !== 0) throw new Error('Not a valid CERTIFICATE PEM block')
  return block.bytes
}
