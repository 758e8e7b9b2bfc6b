import { credentials, makeClientConstructor, type Client } from '@grpc/grpc-js'

/**
 * A gRPC client of our own for the one method at `path`, sending and receiving raw protobuf
 * bytes as any Fabric 0.6.1 peer, chaincode or SDK does. Its method is named `call`.
 */
export function rawClient (address: string, path: string, stream: boolean): Client {
  const Raw = makeClientConstructor({
    call: {
      path,
      requestStream: stream,
      responseStream: stream,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b
    }
  }, 'raw')
  return new Raw(address, credentials.createInsecure())
}
