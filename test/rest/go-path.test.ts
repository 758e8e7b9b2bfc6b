import { describe, expect, it } from 'vitest'
import { goRoutePath } from '../../node/rest/go-path.ts'

describe('goRoutePath', () => {
  it('leaves plain paths as they are and cleans the rest as Go does', () => {
    expect(goRoutePath('/chaincode')).toBe('/chaincode')
    expect(goRoutePath('/registrar/jim_1.x~y-z/ecert')).toBe('/registrar/jim_1.x~y-z/ecert')
    expect(goRoutePath('/chain/')).toBe('/chain')
    expect(goRoutePath('/')).toBe('/')
    expect(goRoutePath('/chain//blocks')).toBe('/chain//blocks')
    expect(goRoutePath('/chain/blocks/1?x=1')).toBe('/chain/blocks/1')
    expect(goRoutePath('/chain%2Fblocks/1')).toBe('/chain/blocks/1')
    expect(goRoutePath('/registrar/a%20b')).toBe('/registrar/a%20b')
    expect(goRoutePath('http://host:1/chain')).toBe('/chain')
    expect(goRoutePath('/chain%zz')).toBeUndefined()
  })
})
