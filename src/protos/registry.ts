// Hand-written (not generated): buf.gen.yaml has no `clean`, so `buf generate`
// leaves this file alone. Lookup of Weft's wire schemas by fully-qualified name.
import { createRegistry, type DescFile, type DescMessage, type Registry } from '@bufbuild/protobuf'
import { file_google_protobuf_empty, file_google_protobuf_timestamp } from '@bufbuild/protobuf/wkt'
import { file_api } from './api_pb.ts'
import { file_chaincode } from './chaincode_pb.ts'
import { file_chaincodeevent } from './chaincodeevent_pb.ts'
import { file_devops } from './devops_pb.ts'
import { file_events } from './events_pb.ts'
import { file_fabric } from './fabric_pb.ts'
import { file_pbft } from './pbft_pb.ts'
import { file_server_admin } from './server_admin_pb.ts'

/** Every generated file descriptor (protos/*.proto), in dependency order. */
export const protoFiles: readonly DescFile[] = Object.freeze([
  file_chaincodeevent,
  file_chaincode,
  file_fabric,
  file_events,
  file_devops,
  file_api,
  file_server_admin,
  file_pbft
])

/**
 * All messages, enums and services of Weft's .proto files (packages `protos`
 * and `pbft`), plus the well-known types they import
 * (google.protobuf.Timestamp, google.protobuf.Empty).
 */
export const registry: Registry = createRegistry(
  file_google_protobuf_timestamp,
  file_google_protobuf_empty,
  ...protoFiles
)

/**
 * The message descriptor for a fully-qualified name such as "protos.Message",
 * "protos.ChaincodeMessage" or "pbft.message".
 * @throws Error("unknown message type <name>") if there is no such message.
 */
export function messageSchema (typeName: string): DescMessage {
  const desc = registry.getMessage(typeName)
  if (desc === undefined) throw new Error(`unknown message type ${typeName}`)
  return desc
}
