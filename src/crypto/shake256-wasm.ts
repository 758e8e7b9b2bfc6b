// SHAKE256 with a 64-byte output, as a WebAssembly module assembled here from its instructions
// (no binary in the repository). Keccak's 64-bit lanes and rotations are single wasm
// instructions: a permutation costs about a third of a microsecond, where a call to Node's
// OpenSSL costs two in fixed overhead and the JS hash several per permutation.

const rate = 136
const stateBytes = 200
/** Memory layout: the state's 25 lanes, the 24 round constants, then the input. */
const constantsAt = stateBytes
const inputAt = 512
const blocksAtOnce = Math.floor((65536 - inputAt) / rate)
const rho = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]

const op = {
  block: 0x02, loop: 0x03, end: 0x0b, brIf: 0x0d, void: 0x40,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Const: 0x41, i64Const: 0x42, i64Load: 0x29, i64Store: 0x37,
  i32Eqz: 0x45, i32Ne: 0x47, i32Add: 0x6a, i32Sub: 0x6b,
  i64And: 0x83, i64Xor: 0x85, i64Rotl: 0x89
} as const
const i32 = 0x7f
const i64 = 0x7e
/** i64.load / i64.store immediates: 8-byte alignment, then the offset. */
const at = (offset: number): number[] => [3, ...uleb(offset)]

/**
 * SHAKE256 of `data`, 64 bytes; undefined where WebAssembly is missing or refused (a page's
 * content security policy, a confined realm). Not reentrant: one instance a thread, used synchronously.
 */
export function wasmShake256x64 (): ((data: Uint8Array) => Uint8Array) | undefined {
  let absorb: (ptr: number, blocks: number) => void
  let memory: Uint8Array
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()))
    absorb = instance.exports.absorb as typeof absorb
    memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer)
  } catch {
    return undefined
  }
  return data => {
    const m = memory
    m.fill(0, 0, stateBytes)
    const n = data.length
    let from = 0
    for (; n - from >= blocksAtOnce * rate; from += blocksAtOnce * rate) {
      m.set(data.subarray(from, from + blocksAtOnce * rate), inputAt)
      absorb(inputAt, blocksAtOnce)
    }
    // The last blocks, padded: 0x1f after the data (SHAKE's suffix and pad bit), 0x80 in the last byte.
    const rest = n - from
    const end = inputAt + (Math.floor(rest / rate) + 1) * rate
    m.set(from === 0 ? data : data.subarray(from), inputAt)
    m.fill(0, inputAt + rest, end)
    m[inputAt + rest] ^= 0x1f
    m[end - 1] ^= 0x80
    absorb(inputAt, (end - inputAt) / rate)
    return m.slice(0, 64)
  }
}

/** One function, absorb(ptr, blocks): XORs each block of `rate` bytes into the state, then permutes. */
function moduleBytes (): Uint8Array<ArrayBuffer> {
  const body = absorbBody()
  const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, ch => ch.charCodeAt(0))]
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[i32], [i32]]), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name('absorb'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
    ...section(11, vec([[0x00, op.i32Const, ...sleb(constantsAt), op.end, ...uleb(24 * 8), ...roundConstants()]]))
  ])
}

function absorbBody (): number[] {
  // Locals: the two parameters, then the lanes a, the permuted lanes b, theta's column parities c, d, and the round's offset.
  const ptr = 0
  const blocks = 1
  const a = (i: number): number => 2 + i
  const b = (i: number): number => 27 + i
  const c = (x: number): number => 52 + x
  const d = 57
  const round = 58
  const lane = (x: number, y: number): number => (x % 5) + 5 * (y % 5)
  const code: number[] = []
  const get = (l: number): void => { code.push(op.localGet, l) }
  const set = (l: number): void => { code.push(op.localSet, l) }
  for (let i = 0; i < 25; i++) { code.push(op.i32Const, 0, op.i64Load, ...at(8 * i)); set(a(i)) }
  code.push(op.block, op.void)
  get(blocks); code.push(op.i32Eqz, op.brIf, 0)
  code.push(op.loop, op.void)
  for (let i = 0; i < rate / 8; i++) { get(a(i)); get(ptr); code.push(op.i64Load, ...at(8 * i), op.i64Xor); set(a(i)) }
  code.push(op.i32Const, 0); set(round)
  code.push(op.loop, op.void)
  // theta
  for (let x = 0; x < 5; x++) {
    get(a(lane(x, 0)))
    for (let y = 1; y < 5; y++) { get(a(lane(x, y))); code.push(op.i64Xor) }
    set(c(x))
  }
  for (let x = 0; x < 5; x++) {
    get(c((x + 4) % 5)); get(c((x + 1) % 5)); code.push(op.i64Const, 1, op.i64Rotl, op.i64Xor); set(d)
    for (let y = 0; y < 5; y++) { get(a(lane(x, y))); get(d); code.push(op.i64Xor); set(a(lane(x, y))) }
  }
  // rho and pi
  for (let x = 0; x < 5; x++) {
    for (let y = 0; y < 5; y++) {
      get(a(lane(x, y)))
      if (rho[x][y] !== 0) code.push(op.i64Const, rho[x][y], op.i64Rotl)
      set(b(lane(y, 2 * x + 3 * y)))
    }
  }
  // chi
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 5; x++) {
      get(b(lane(x, y))); get(b(lane(x + 1, y))); code.push(op.i64Const, 0x7f, op.i64Xor)
      get(b(lane(x + 2, y))); code.push(op.i64And, op.i64Xor); set(a(lane(x, y)))
    }
  }
  // iota
  get(a(0)); get(round); code.push(op.i64Load, ...at(constantsAt), op.i64Xor); set(a(0))
  get(round); code.push(op.i32Const, 8, op.i32Add, op.localTee, round, op.i32Const, ...sleb(24 * 8), op.i32Ne, op.brIf, 0, op.end)
  get(ptr); code.push(op.i32Const, ...sleb(rate), op.i32Add); set(ptr)
  get(blocks); code.push(op.i32Const, 1, op.i32Sub, op.localTee, blocks, op.brIf, 0, op.end, op.end)
  for (let i = 0; i < 25; i++) { code.push(op.i32Const, 0); get(a(i)); code.push(op.i64Store, ...at(8 * i)) }
  code.push(op.end)
  return [...vec([[56, i64], [1, i32]]), ...code]
}

/** Keccak's round constants, little-endian, from its LFSR. */
function roundConstants (): number[] {
  const out = new Array<number>(24 * 8).fill(0)
  let r = 1
  for (let i = 0; i < 24; i++) {
    for (let j = 0; j < 7; j++) {
      r = ((r << 1) ^ ((r >> 7) * 0x71)) & 0xff
      if ((r & 2) !== 0) {
        const bit = (1 << j) - 1
        out[i * 8 + (bit >> 3)] ^= 1 << (bit & 7)
      }
    }
  }
  return out
}

function section (id: number, body: number[]): number[] { return [id, ...uleb(body.length), ...body] }
function vec (items: number[][]): number[] { return [...uleb(items.length), ...items.flat()] }

function uleb (n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>>= 7
    if (n === 0) { out.push(byte); return out }
    out.push(byte | 0x80)
  }
}

function sleb (n: number): number[] {
  const out: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) { out.push(byte); return out }
    out.push(byte | 0x80)
  }
}
