import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Fabric's login tokens: peer.fileSystemPath/client/loginToken_<user>, holding the user's name,
 * written by a successful POST /registrar or `network login` and read by `chaincode -u`.
 */
export class LoginTokens {
  readonly dir: string

  constructor (fileSystemPath: string) {
    this.dir = join(fileSystemPath, 'client')
  }

  file (user: string): string { return join(this.dir, `loginToken_${user}`) }

  async has (user: string): Promise<boolean> {
    try {
      await stat(this.file(user))
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw err
    }
  }

  async put (user: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 })
    await writeFile(this.file(user), user, { mode: 0o755 })
  }

  async remove (user: string): Promise<void> {
    await rm(this.file(user), { force: true })
  }
}
