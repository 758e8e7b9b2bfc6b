export { goJson, goQuote, goQuoteBytes } from './encode.ts'
export { decodeFirstGoJson, parseGoJson, GoJsonSyntaxError, type JsonNode } from './parse.ts'
export { parseChaincodeInput, parseRpcRequest, rpcIdJson, type RpcId, type RpcParse, type RpcRequest } from './rpc-request.ts'
