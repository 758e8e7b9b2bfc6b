/**
 * A JSON reader that accepts and refuses exactly what Go's encoding/json does, with Go's
 * error texts ("invalid character 'x' looking for beginning of value", "unexpected end of
 * JSON input", ...), and keeps numbers as their source text so 64-bit ids survive.
 */
export type JsonNode = (
  | { kind: 'null' }
  | { kind: 'bool', value: boolean }
  | { kind: 'number', raw: string }
  | { kind: 'string', value: string }
  | { kind: 'array', items: JsonNode[] }
  | { kind: 'object', entries: Array<[string, JsonNode]> }
) & { start: number, end: number }

export class GoJsonSyntaxError extends Error {
  override name = 'GoJsonSyntaxError'
}

const maxNestingDepth = 10000 // encoding/json's own limit

const simpleEscapes: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/** Go's quoteChar: how the scanner shows the offending character. */
function quoteChar (c: string): string {
  if (c === "'") return "'\\''"
  if (c === '"') return "'\"'"
  const named: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' }
  if (named[c] !== undefined) return `'${named[c]}'`
  const code = c.charCodeAt(0)
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`
  return `'${c}'`
}

/** json.Unmarshal: exactly one value, nothing but whitespace after it. */
export function parseGoJson (text: string): JsonNode {
  return parseValue(text, false).node
}

/**
 * json.Decoder.Decode: the first value of a stream (whatever follows is left unread).
 * Returns undefined at end of input (io.EOF); a value cut short is "unexpected EOF".
 */
export function decodeFirstGoJson (text: string): JsonNode | undefined {
  if (/^[ \t\n\r]*$/.test(text)) return undefined
  try {
    return parseValue(text, true).node
  } catch (err) {
    if (err instanceof GoJsonSyntaxError && err.message === 'unexpected end of JSON input') throw new GoJsonSyntaxError('unexpected EOF')
    throw err
  }
}

function parseValue (text: string, prefixOnly: boolean): { node: JsonNode, end: number } {
  let pos = 0
  const fail = (what: string): never => {
    if (pos >= text.length) throw new GoJsonSyntaxError('unexpected end of JSON input')
    throw new GoJsonSyntaxError(`invalid character ${quoteChar(text[pos])} ${what}`)
  }
  const skipSpace = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
      pos++
    }
  }
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'

  function literal (word: string, node: JsonNode): JsonNode {
    for (let i = 1; i < word.length; i++) {
      pos++
      if (text[pos] !== word[i]) fail(`in literal ${word} (expecting ${quoteChar(word[i])})`)
    }
    pos++
    node.end = pos
    return node
  }

  function number (start: number): JsonNode {
    if (text[pos] === '-') { pos++; if (!isDigit(text[pos])) fail('in numeric literal') }
    if (text[pos] === '0') pos++
    else while (isDigit(text[pos])) pos++
    if (text[pos] === '.') {
      pos++
      if (!isDigit(text[pos])) fail('after decimal point in numeric literal')
      while (isDigit(text[pos])) pos++
    }
    if (text[pos] === 'e' || text[pos] === 'E') {
      pos++
      if (text[pos] === '+' || text[pos] === '-') pos++
      if (!isDigit(text[pos])) fail('in exponent of numeric literal')
      while (isDigit(text[pos])) pos++
    }
    return { kind: 'number', raw: text.slice(start, pos), start, end: pos }
  }

  function string (): string {
    pos++ // opening quote
    let out = ''
    // Runs of plain characters are copied as one slice.
    let from = pos
    for (;;) {
      if (pos >= text.length) fail('')
      const c = text.charCodeAt(pos)
      if (c === 0x22) { const s = out + text.slice(from, pos); pos++; return s }
      if (c < 0x20) fail('in string literal')
      if (c !== 0x5c) { pos++; continue }
      out += text.slice(from, pos)
      pos++
      const e = text[pos]
      const simple = e === undefined ? undefined : simpleEscapes[e]
      if (simple !== undefined) { out += simple; from = ++pos; continue }
      if (e !== 'u') fail('in string escape code')
      pos++
      const hex = (): number => {
        let v = 0
        for (let i = 0; i < 4; i++) {
          const h = text[pos]
          if (h === undefined || !/[0-9a-fA-F]/.test(h)) fail('in \\u hexadecimal character escape')
          v = v * 16 + parseInt(h, 16)
          pos++
        }
        return v
      }
      const u = hex()
      if (u >= 0xd800 && u <= 0xdbff && text[pos] === '\\' && text[pos + 1] === 'u') {
        const save = pos
        pos += 2
        const lo = hex()
        if (lo >= 0xdc00 && lo <= 0xdfff) { out += String.fromCharCode(u, lo); from = pos; continue }
        pos = save
      }
      // Go turns an unpaired surrogate into U+FFFD.
      out += u >= 0xd800 && u <= 0xdfff ? '\ufffd' : String.fromCharCode(u)
      from = pos
    }
  }

  function objectKey (): string {
    skipSpace()
    if (text[pos] !== '"') fail('looking for beginning of object key string')
    const key = string()
    skipSpace()
    if (text[pos] !== ':') fail('after object key')
    pos++
    return key
  }

  function scalar (): JsonNode {
    const start = pos
    const c = text[pos]
    if (c === '"') { const v = string(); return { kind: 'string', value: v, start, end: pos } }
    if (c === '-' || isDigit(c)) return number(start)
    if (c === 't') return literal('true', { kind: 'bool', value: true, start, end: 0 })
    if (c === 'f') return literal('false', { kind: 'bool', value: false, start, end: 0 })
    if (c === 'n') return literal('null', { kind: 'null', start, end: 0 })
    return fail('looking for beginning of value')
  }

  // Iterative, with an explicit stack, so deep nesting cannot exhaust the call stack.
  type Open = { node: JsonNode & { kind: 'array' | 'object' }, key: string }
  function value (): JsonNode {
    const stack: Open[] = []
    for (;;) {
      skipSpace()
      const start = pos
      const c = text[pos]
      let done: JsonNode
      if (c === '{' || c === '[') {
        if (stack.length >= maxNestingDepth) throw new GoJsonSyntaxError('exceeded max depth')
        pos++
        skipSpace()
        const node: Open['node'] = c === '[' ? { kind: 'array', items: [], start, end: 0 } : { kind: 'object', entries: [], start, end: 0 }
        if (text[pos] !== (c === '[' ? ']' : '}')) {
          stack.push({ node, key: c === '{' ? objectKey() : '' })
          continue
        }
        pos++
        node.end = pos
        done = node
      } else {
        done = scalar()
      }
      // Hand the finished value to its container; close containers that end here.
      for (;;) {
        const top = stack[stack.length - 1]
        if (top === undefined) return done
        if (top.node.kind === 'array') top.node.items.push(done)
        else top.node.entries.push([top.key, done])
        skipSpace()
        if (text[pos] === ',') {
          pos++
          if (top.node.kind === 'object') top.key = objectKey()
          break
        }
        if (text[pos] === (top.node.kind === 'array' ? ']' : '}')) {
          pos++
          top.node.end = pos
          stack.pop()
          done = top.node
          continue
        }
        return fail(top.node.kind === 'array' ? 'after array element' : 'after object key:value pair')
      }
    }
  }

  const node = value()
  if (prefixOnly) return { node, end: pos }
  skipSpace()
  if (pos < text.length) fail('after top-level value')
  return { node, end: pos }
}
