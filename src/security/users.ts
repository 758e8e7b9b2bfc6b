import type { Member, MemberKeystore } from './member.ts'

/**
 * The users this peer signs for (Fabric's crypto clients, named by their enrollment id): Login
 * enrolls one once, and its keys stay in the keystore until removed; transactions name one by
 * their secureContext.
 */
export class Users {
  private readonly open = new Map<string, Promise<Member | undefined>>()

  constructor (private readonly keystore: MemberKeystore) {}

  /**
   * Devops.Login (crypto.RegisterClient): enrolls the user with the CA unless its keys are
   * already here, in which case the secret is not checked again, as in Fabric.
   */
  async login (enrollID: string, enrollSecret: string): Promise<void> {
    if (await this.keystore.has('client', enrollID)) return
    const member = this.keystore.enroll('client', enrollID, enrollSecret)
    this.open.set(enrollID, member)
    try {
      await member
    } catch (err) {
      this.open.delete(enrollID)
      throw err
    }
  }

  /** The logged-in user (crypto.InitClient); throws Fabric's error for one that is not. */
  async member (enrollID: string): Promise<Member> {
    let m = this.open.get(enrollID)
    if (m === undefined) {
      m = this.keystore.open('client', enrollID)
      this.open.set(enrollID, m)
    }
    const member = await m.catch((err: unknown) => { this.open.delete(enrollID); throw err })
    if (member === undefined) {
      this.open.delete(enrollID)
      throw new Error(this.keystore.notEnrolled('client', enrollID))
    }
    return member
  }

  async isEnrolled (enrollID: string): Promise<boolean> { return await this.keystore.has('client', enrollID) }

  /** Forgets the user's keys (DELETE /registrar/{id}). */
  async remove (enrollID: string): Promise<void> {
    this.open.delete(enrollID)
    await this.keystore.remove('client', enrollID)
  }
}
