// The ways a user launches `weft` pass the node flags its heap is sized with (the young generation
// can only be sized at launch): bin/weft.mjs's first line and `npm start`.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { WEFT_NODE_FLAGS } from '../../node/peer/heap-limits.ts'

const root = new URL('../../', import.meta.url)

describe('the node flags weft runs with', () => {
  it('bin/weft.mjs runs node with them', async () => {
    const first = (await readFile(new URL('bin/weft.mjs', root), 'utf8')).split('\n')[0]
    expect(first).toBe(`#!/usr/bin/env -S node ${WEFT_NODE_FLAGS.join(' ')}`)
  })

  it('npm start runs the peer with them', async () => {
    const { scripts } = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }
    expect(scripts.start).toBe(`node ${WEFT_NODE_FLAGS.join(' ')} bin/weft.mjs node start`)
  })
})
