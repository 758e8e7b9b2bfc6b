// Deploy paths: a chaincode path resolves only inside the chaincode roots, whatever the trick
// (.., absolute paths, symlinks, imports), with one error for every refusal and no file's
// contents in any message.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chaincodeRoots, EXAMPLES_ROOT, packageChaincode } from '../../node/chaincode/package.ts'
import { fromUtf8 } from '../../src/crypto/bytes.ts'

let dir: string
let root: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-roots-'))
  root = join(dir, 'chaincode')
  await mkdir(join(root, 'good'), { recursive: true })
  await writeFile(join(dir, 'secret'), 'hunter2secret')
  await writeFile(join(dir, 'secret.js'), 'export const s = "hunter2secret"')
  await writeFile(join(root, 'good', 'index.ts'), "import { twice } from './lib.ts'\nexport function init () {}\nexport function invoke () { return twice('x') }\nexport function query () {}\n")
  await writeFile(join(root, 'good', 'lib.ts'), 'export const twice = (s: string): string => s + s\n')
  await writeFile(join(root, 'reads-secret.js'), "import { s } from '../secret.js'\nexport function init () {}\nexport function invoke () { return s }\nexport function query () {}\n")
  await symlink(join(dir, 'secret.js'), join(root, 'link.js'))
  await symlink(dir, join(root, 'outside'))
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

const refusal = (p: string): string => `chaincode path ${p} is not inside an allowed chaincode root`

describe('chaincode roots', () => {
  it('packages a chaincode inside a root, relative or absolute, with its imports', async () => {
    const code = fromUtf8(await packageChaincode('chaincode/good', { roots: [root], cwd: dir }))
    expect(code).toContain('s + s')
    expect(fromUtf8(await packageChaincode(join(root, 'good', 'index.ts'), { roots: [root] }))).toContain('s + s')
  })

  it.each([
    ['../secret', 'dotdot'], ['/etc/passwd', 'absolute'], ['/proc/self/environ', 'proc'], ['/no/such/file', 'missing outside'],
    ['chaincode/link.js', 'symlinked file'], ['chaincode/outside/secret', 'symlinked directory'], ['chaincode/../secret', 'dotdot inside']
  ])('refuses %s (%s) with the one error', async (path) => {
    const err = await packageChaincode(path, { roots: [root], cwd: dir }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe(refusal(path))
  })

  it('refuses an import that leaves the root, without echoing the imported file', async () => {
    const err = await packageChaincode('chaincode/reads-secret.js', { roots: [root], cwd: dir }).catch((e: Error) => e)
    expect((err as Error).message).toBe('cannot package chaincode chaincode/reads-secret.js: import "../secret.js" is not inside an allowed chaincode root')
  })

  it('says a path inside a root does not exist', async () => {
    await expect(packageChaincode('chaincode/nothing.ts', { roots: [root], cwd: dir })).rejects.toThrow('chaincode path chaincode/nothing.ts does not exist')
  })

  it('defaults to the shipped examples and ./chaincode', () => {
    expect(chaincodeRoots([], '/srv/peer')).toEqual([EXAMPLES_ROOT, '/srv/peer/chaincode'])
    expect(chaincodeRoots(['cc', '/opt/cc'], '/srv/peer')).toEqual(['/srv/peer/cc', '/opt/cc'])
  })
})
