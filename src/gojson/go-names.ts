import { ScalarType, type DescEnum, type DescMessage } from '@bufbuild/protobuf'

/** protoc-gen-go's CamelCase: the Go identifier generated for a proto name. */
export function goCamelCase (name: string): string {
  let out = ''
  let i = 0
  if (name.startsWith('_')) { out = 'X'; i = 1 }
  const lower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z'
  for (; i < name.length; i++) {
    let c = name[i]
    if (c === '_' && lower(name[i + 1])) continue
    if (c >= '0' && c <= '9') { out += c; continue }
    if (lower(c)) c = c.toUpperCase()
    out += c
    while (lower(name[i + 1])) out += name[++i]
  }
  return out
}

/** The Go type a message or enum became: `protos.ChaincodeSpec.Type` → `protos.ChaincodeSpec_Type`. */
export function goTypeName (desc: DescMessage | DescEnum): string {
  const pkg = desc.file.proto.package
  const local = pkg === '' ? desc.typeName : desc.typeName.slice(pkg.length + 1)
  return `${pkg === '' ? '' : pkg + '.'}${local.split('.').join('_')}`
}

/** Struct name without the package (what encoding/json puts in "Go struct field X.path"). */
export function goStructName (desc: DescMessage): string {
  const full = goTypeName(desc)
  return full.slice(full.lastIndexOf('.') + 1)
}

/** reflect.Type.String() of a scalar field's Go type. */
export function goScalarTypeName (t: ScalarType): string {
  switch (t) {
    case ScalarType.STRING: return 'string'
    case ScalarType.BYTES: return '[]uint8'
    case ScalarType.BOOL: return 'bool'
    case ScalarType.DOUBLE: return 'float64'
    case ScalarType.FLOAT: return 'float32'
    case ScalarType.INT32: case ScalarType.SINT32: case ScalarType.SFIXED32: return 'int32'
    case ScalarType.UINT32: case ScalarType.FIXED32: return 'uint32'
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64: return 'int64'
    case ScalarType.UINT64: case ScalarType.FIXED64: return 'uint64'
  }
}
