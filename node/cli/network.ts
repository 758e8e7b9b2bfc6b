import { create } from '@bufbuild/protobuf'
import { EmptySchema } from '@bufbuild/protobuf/wkt'
import { Command } from 'commander'
import { goJson } from '../../src/gojson/index.ts'
import { Openchain } from '../../src/protos/api_pb.ts'
import { PeerEndpointSchema, type PeersMessage } from '../../src/protos/fabric_pb.ts'
import { failedTo, runClientVerb, withConfigOption, type ClientFlags } from './peer-client.ts'

/** `weft network list`: the peers the running peer is connected to, as Fabric prints them. */
export function networkCommand (): Command {
  const network = new Command('network').description('network commands')
  withConfigOption(network.command('list').alias('ls'))
    .description('list the peers the running peer is connected to (Openchain.GetPeers at peer.address)')
    .action(async (flags: ClientFlags) => {
      await runClientVerb(flags, async peer => {
        const { peers } = await peer.call<PeersMessage>(Openchain, 'getPeers', create(EmptySchema)).catch(failedTo('Error trying to get peers'))
        // json.Marshal(struct{ Peers []*pb.PeerEndpoint }): an empty list still prints as [].
        process.stdout.write(`{"Peers":[${peers.map(p => goJson(PeerEndpointSchema, p)).join(',')}]}\n`)
      })
    })
  return network
}
