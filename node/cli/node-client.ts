import { create } from '@bufbuild/protobuf'
import { EmptySchema } from '@bufbuild/protobuf/wkt'
import { Command } from 'commander'
import { Admin, ServerStatusSchema, ServerStatus_StatusCode, type ServerStatus } from '../../src/protos/server_admin_pb.ts'
import { failedTo, PeerUnreachableError, runClientVerb, withConfigOption, type ClientFlags } from './peer-client.ts'

const empty = create(EmptySchema)

/** A ServerStatus as Fabric's CLI prints it: golang/protobuf's compact text, trailing space included. */
export function statusLine (code: ServerStatus_StatusCode): string {
  return code === ServerStatus_StatusCode.UNDEFINED ? '\n' : `status:${ServerStatus_StatusCode[code]} \n`
}

/** Adds `status` and `stop` (Fabric's `peer node status|stop`, talking to the peer at peer.address) to `weft node`. */
export function addNodeClientVerbs (node: Command): Command {
  withConfigOption(node.command('status'))
    .description('print the status of the running peer (Admin.GetStatus at peer.address, CORE_PEER_ADDRESS)')
    .action(async (flags: ClientFlags) => {
      await runClientVerb(flags, async peer => {
        try {
          const answer = await peer.call<ServerStatus>(Admin, 'getStatus', empty).catch(failedTo('Error trying to connect to local peer'))
          process.stdout.write(statusLine(answer.status))
        } catch (err) {
          // Fabric still prints a status when the peer cannot be asked.
          process.stdout.write(statusLine(ServerStatus_StatusCode.UNKNOWN))
          throw err
        }
      })
    })
  withConfigOption(node.command('stop'))
    .description('stop the running peer (Admin.StopServer at peer.address, CORE_PEER_ADDRESS)')
    .action(async (flags: ClientFlags) => {
      await runClientVerb(flags, async peer => {
        let answer: ServerStatus
        try {
          answer = await peer.call<ServerStatus>(Admin, 'stopServer', empty)
        } catch (err) {
          if (err instanceof PeerUnreachableError) throw err
          // Fabric's own peer exits before its answer leaves: a call cut short means it stopped.
          answer = create(ServerStatusSchema, { status: ServerStatus_StatusCode.STOPPED })
        }
        process.stdout.write(statusLine(answer.status))
        if (answer.status !== ServerStatus_StatusCode.STOPPED) throw new Error('the peer answered StopServer but did not stop')
      })
    })
  return node
}
