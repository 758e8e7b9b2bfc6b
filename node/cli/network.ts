import { create } from '@bufbuild/protobuf'
import { EmptySchema } from '@bufbuild/protobuf/wkt'
import { Command } from 'commander'
import { goJson } from '../../src/gojson/index.ts'
import { Openchain } from '../../src/protos/api_pb.ts'
import { PeerEndpointSchema, type PeersMessage } from '../../src/protos/fabric_pb.ts'
import type { UpFlags } from './network-up.ts'
import { failedTo, runClientVerb, withConfigOption, type ClientFlags } from './peer-client.ts'

/** `weft network list`: the peers the running peer is connected to, as Fabric prints them; `up` and `down`: a local network. */
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
  network.command('up')
    .description('start a local network of N validators on 127.0.0.1 (each a `weft node start` child), print their addresses, stop them all on Ctrl-C')
    .argument('[N]', 'validators', '4')
    .option('--consensus <plugin>', 'noops or pbft', 'pbft')
    .option('--dir <dir>', 'where each peer keeps its data directory (vp0, vp1, …) and log', 'weft-network')
    .option('--base-port <port>', 'vpI listens on base+10·I … base+10·I+5 (REST, gRPC, events, libp2p, metrics, web app); default: free ports from the OS')
    .option('--no-web', 'no web app')
    .option('--timeout <seconds>', 'how long the peers may take to start and connect', '90')
    .action(async (n: string, flags: UpFlags) => { await (await import('./network-up.ts')).networkUp(n, flags) })
  network.command('down')
    .description('stop the network `weft network up` runs in a directory')
    .option('--dir <dir>', 'the network\'s directory', 'weft-network')
    .action(async (flags: { dir: string }) => { await (await import('./network-up.ts')).networkDown(flags) })
  return network
}
