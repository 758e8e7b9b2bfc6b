// The REST API as an OpenAPI 3.0 document, served at GET /openapi.json. Bodies are what the
// server writes: Go encoding/json renderings of Fabric 0.6.1's protobuf structs (bytes in
// base64, enums as numbers, empty fields left out), Fabric's {"OK"} / {"Error"} results, and
// JSON-RPC 2.0 on /chaincode. test/rest/openapi.test.ts checks every served route is here.

type Json = Record<string, unknown>

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })
const bytes: Json = { type: 'string', format: 'byte' }
const uint64: Json = { type: 'integer', format: 'uint64', minimum: 0 }
const json = (schema: Json, description: string): Json => ({ description, content: { 'application/json': { schema } } })
const errorReply = (description: string): Json => json(ref('Error'), description)
const idParam = (name: string, description: string): Json => ({ name: 'id', in: 'path', required: true, description: `${name}: ${description}`, schema: { type: 'string' } })

const schemas: Record<string, Json> = {
  Error: { type: 'object', properties: { Error: { type: 'string' } }, required: ['Error'] },
  OK: { type: 'object', properties: { OK: { type: 'string' }, message: { type: 'string' } }, required: ['OK'] },
  Timestamp: { type: 'object', properties: { seconds: { type: 'integer', format: 'int64' }, nanos: { type: 'integer', format: 'int32' } } },
  BlockchainInfo: {
    type: 'object',
    properties: { height: uint64, currentBlockHash: bytes, previousBlockHash: { ...bytes, description: 'Absent on a chain of the genesis block alone.' } },
    required: ['height']
  },
  Transaction: {
    type: 'object',
    properties: {
      type: { type: 'integer', description: 'Transaction.Type: 1 CHAINCODE_DEPLOY, 2 CHAINCODE_INVOKE, 3 CHAINCODE_QUERY, 4 CHAINCODE_TERMINATE.' },
      chaincodeID: { ...bytes, description: 'The ChaincodeID message, marshalled.' },
      payload: { ...bytes, description: 'The ChaincodeDeploymentSpec or ChaincodeInvocationSpec, marshalled.' },
      metadata: bytes,
      txid: { type: 'string' },
      timestamp: ref('Timestamp'),
      confidentialityLevel: { type: 'integer', description: '0 PUBLIC, 1 CONFIDENTIAL.' },
      confidentialityProtocolVersion: { type: 'string' },
      nonce: bytes,
      toValidators: bytes,
      cert: bytes,
      signature: bytes
    }
  },
  ChaincodeEvent: { type: 'object', properties: { chaincodeID: { type: 'string' }, txID: { type: 'string' }, eventName: { type: 'string' }, payload: bytes } },
  Block: {
    type: 'object',
    properties: {
      version: { type: 'integer' },
      timestamp: ref('Timestamp'),
      transactions: { type: 'array', items: ref('Transaction'), description: 'Deploy transactions without their code package.' },
      stateHash: bytes,
      previousBlockHash: bytes,
      consensusMetadata: bytes,
      nonHashData: {
        type: 'object',
        properties: { localLedgerCommitTimestamp: ref('Timestamp'), chaincodeEvents: { type: 'array', items: ref('ChaincodeEvent') } }
      }
    }
  },
  PeerEndpoint: {
    type: 'object',
    properties: {
      ID: { type: 'object', properties: { name: { type: 'string' } } },
      address: { type: 'string' },
      type: { type: 'integer', description: '1 VALIDATOR, 2 NON_VALIDATOR.' },
      pkiID: bytes
    }
  },
  PeersMessage: { type: 'object', properties: { peers: { type: 'array', items: ref('PeerEndpoint') } } },
  Secret: { type: 'object', properties: { enrollId: { type: 'string' }, enrollSecret: { type: 'string' } } },
  ChaincodeSpec: {
    type: 'object',
    properties: {
      type: { type: 'integer', description: 'ChaincodeSpec.Type: 1 GOLANG, 2 NODE, 3 JAVA, 4 CAR.' },
      chaincodeID: { type: 'object', properties: { path: { type: 'string', description: 'Deploy outside dev mode.' }, name: { type: 'string', description: 'Invoke, query, and deploy in dev mode.' } } },
      ctorMsg: { type: 'object', properties: { args: { type: 'array', items: { type: 'string' } } } },
      secureContext: { type: 'string', description: 'The enrolled user, when security is enabled.' },
      attributes: { type: 'array', items: { type: 'string' } }
    }
  },
  RpcRequest: {
    type: 'object',
    properties: {
      jsonrpc: { type: 'string', enum: ['2.0'] },
      method: { type: 'string', enum: ['deploy', 'invoke', 'query'] },
      params: ref('ChaincodeSpec'),
      id: { description: 'A number or string; without it the request is a notification and gets no body.', oneOf: [{ type: 'number' }, { type: 'string' }] },
      wait: { description: 'Weft: answer only once the deploy or invoke is in a block (true = 30 s, milliseconds, or a Go duration).', oneOf: [{ type: 'boolean' }, { type: 'number' }, { type: 'string' }] }
    },
    required: ['jsonrpc', 'method', 'params']
  },
  RpcResponse: {
    type: 'object',
    properties: {
      jsonrpc: { type: 'string', enum: ['2.0'] },
      result: { type: 'object', properties: { status: { type: 'string', enum: ['OK'] }, message: { type: 'string', description: 'Deploy: the chaincode name; invoke: the transaction id; query: the result.' } } },
      error: { type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' }, data: { type: 'string' } }, required: ['code', 'message'] },
      id: { oneOf: [{ type: 'number' }, { type: 'string' }], nullable: true }
    },
    required: ['jsonrpc']
  },
  Health: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      reason: { type: 'string', description: 'Why the peer is unavailable (503 only).' },
      peerId: { type: 'string' },
      height: { type: 'integer' },
      validator: { type: 'boolean' },
      consensus: { type: 'string', enum: ['noops', 'pbft'], nullable: true },
      connectedPeers: { type: 'integer' }
    },
    required: ['status', 'peerId', 'height', 'validator', 'consensus', 'connectedPeers']
  }
}

const registrarNote = 'Login enrolls the user with membership services (security.enabled, the peer enrolled); the login token is kept under peer.fileSystemPath/client. Without membership services enrollment never succeeds, as on a Fabric peer whose membership service is unreachable.'
const noPattern = errorReply('rest.validPatterns.enrollmentID is not configured.')
const enrollmentID = idParam('enrollmentID', 'the user\'s enrollment id (rest.validPatterns.enrollmentID).')

/** Fabric's routes, each with its methods; OPTIONS answers every one of them (CORS preflight). */
const fabricPaths: Record<string, Json> = {
  '/registrar': {
    post: {
      summary: 'Log a user in with its enrollment secret.',
      description: registrarNote,
      requestBody: { required: true, content: { 'application/json': { schema: ref('Secret') } } },
      responses: { 200: json(ref('OK'), 'Logged in.'), 400: errorReply('Malformed body, blank field or bad enrollment id.'), 401: errorReply('Membership services unavailable.'), 500: noPattern }
    }
  },
  '/registrar/{id}': {
    parameters: [enrollmentID],
    get: { summary: 'Whether the user is logged in on this peer.', responses: { 200: json(ref('OK'), 'Logged in.'), 400: errorReply('Bad enrollment id.'), 401: errorReply('Not logged in.'), 500: noPattern } },
    delete: { summary: 'Log the user out.', responses: { 200: json(ref('OK'), 'Logged out (or was not logged in).'), 400: errorReply('Bad enrollment id.'), 500: noPattern } }
  },
  '/registrar/{id}/ecert': {
    parameters: [enrollmentID],
    get: { summary: 'The user\'s enrollment certificate.', responses: { 200: json(ref('OK'), 'The certificate (PEM, URL-encoded).'), 400: errorReply('Bad enrollment id, security disabled, or membership services unavailable.'), 500: noPattern } }
  },
  '/registrar/{id}/tcert': {
    parameters: [enrollmentID, { name: 'count', in: 'query', required: false, description: 'How many transaction certificates (uint32, default 1).', schema: { type: 'integer', minimum: 0, maximum: 4294967295 } }],
    get: { summary: 'Transaction certificates for the user.', responses: { 200: json(ref('OK'), 'The certificates.'), 400: errorReply('Bad enrollment id or count, security disabled, or membership services unavailable.'), 500: noPattern } }
  },
  '/chain': {
    get: { summary: 'Height and head of the chain.', responses: { 200: json(ref('BlockchainInfo'), 'The chain.'), 400: errorReply('No blocks yet.') } }
  },
  '/chain/blocks/{id}': {
    parameters: [{ name: 'id', in: 'path', required: true, description: 'The block number (uint64).', schema: { type: 'string', pattern: '^[0-9]{1,20}$' } }],
    get: { summary: 'One block.', responses: { 200: json(ref('Block'), 'The block.'), 400: errorReply('Not a uint64.'), 404: errorReply('No such block.'), 500: errorReply('The ledger failed.') } }
  },
  '/chaincode': {
    post: {
      summary: 'Deploy, invoke or query chaincode (JSON-RPC 2.0).',
      requestBody: { required: true, content: { 'application/json': { schema: ref('RpcRequest') } } },
      responses: {
        200: json(ref('RpcResponse'), 'A result or a JSON-RPC error (-32700 parse, -32600 invalid request, -32601 method not found, -32602 invalid params, -32603 internal, -32000 registration missing, -32001 deploy, -32002 invoke, -32003 query failed); empty for a notification.'),
        413: json(ref('RpcResponse'), 'Body larger than the limit.')
      }
    }
  },
  '/transactions/{id}': {
    parameters: [idParam('txid', 'the transaction id.')],
    get: { summary: 'One committed transaction, code package included; Weft also says when it was rejected.', responses: { 200: json(ref('Transaction'), 'The transaction (header weft-block: the number of the block holding it).'), 404: errorReply('No block holds it and the peer knows of no rejection.'), 410: errorReply('Weft: the peer rejected it; the body adds txid, status "rejected", reason (the chaincode\'s error) and rejectedAt.'), 500: errorReply('The ledger failed.') } }
  },
  '/network/peers': {
    get: { summary: 'The peers this peer knows, itself included.', responses: { 200: json(ref('PeersMessage'), 'The peers.'), 400: errorReply('The peer list is unavailable.') } }
  }
}

const preflight = (methods: string[]): Json => ({
  summary: 'CORS preflight.',
  responses: { 200: { description: `Access-Control-Allow-Methods: ${methods.join(', ')}.` } }
})
const httpMethods = ['get', 'put', 'post', 'delete', 'patch', 'head']

/** Weft's own routes (no OPTIONS: Fabric has none of them). */
const weftPaths: Record<string, Json> = {
  '/healthz': {
    get: {
      summary: 'Weft: whether the peer serves and its consensus can order.',
      responses: { 200: json(ref('Health'), 'Started, and (PBFT) 2f+1 validators connected.'), 503: json(ref('Health'), 'Starting, stopping, stopped, or consensus stalled.') }
    }
  },
  '/openapi.json': {
    get: { summary: 'Weft: this document.', responses: { 200: { description: 'OpenAPI 3.0.', content: { 'application/json': { schema: { type: 'object' } } } } } }
  }
}

/** The whole document; `version` is Weft's package version. */
export function openApiDocument (version: string): Json {
  const paths: Record<string, Json> = {}
  for (const [path, item] of Object.entries(fabricPaths)) {
    const methods = Object.keys(item).filter(k => httpMethods.includes(k)).map(m => m.toUpperCase())
    paths[path] = { ...item, options: preflight(methods) }
  }
  Object.assign(paths, weftPaths)
  return {
    openapi: '3.0.3',
    info: {
      title: 'Weft peer REST API',
      version,
      description: 'Hyperledger Fabric 0.6.1\'s REST API (every answer is application/json with Access-Control-Allow-Origin: *), plus Weft\'s /healthz and this document. A path that matches no route answers 404 {"Error":"Openchain endpoint not found."}.'
    },
    paths,
    components: { schemas }
  }
}
