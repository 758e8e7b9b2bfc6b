import { parse, resolve } from 'node:path'
import { create } from '@bufbuild/protobuf'
import { timestampNow } from '@bufbuild/protobuf/wkt'
import { Command } from 'commander'
import { nodeDeploymentSpec } from '../../src/chaincode/package.ts'
import { newDeployTransaction } from '../../src/chaincode/transactions.ts'
import { parseGoDuration } from '../../src/config/duration.ts'
import { concatBytes, fromUtf8, toHex, utf8 } from '../../src/crypto/bytes.ts'
import { parseChaincodeInput, parseGoJson, type JsonNode } from '../../src/gojson/index.ts'
import {
  ChaincodeInvocationSpecSchema, ChaincodeSpecSchema, ChaincodeSpec_Type, ConfidentialityLevel,
  type ChaincodeDeploymentSpec, type ChaincodeInvocationSpec, type ChaincodeSpec
} from '../../src/protos/chaincode_pb.ts'
import { Devops } from '../../src/protos/devops_pb.ts'
import { Peer, Response_StatusCode, type Response } from '../../src/protos/fabric_pb.ts'
import { loadChaincodeFile, runExternalChaincode } from '../chaincode/external.ts'
import { packageChaincode } from '../chaincode/package.ts'
import { failedTo, runClientVerb, withConfigOption, type ClientFlags, type LocalPeer } from './peer-client.ts'
import type { TxOutcome } from './tx-events.ts'
import { lookupTransaction } from './tx.ts'
import { createLogger } from '../../src/util/logger.ts'

const log = createLogger('chaincodeCmd')

interface SpecFlags extends ClientFlags {
  name?: string
  path?: string
  lang?: string
  ctor: string
  attributes: string
  username?: string
}

interface QueryFlags extends SpecFlags {
  raw?: boolean
  hex?: boolean
}

const ctorKeys = "Non-empty JSON chaincode parameters must contain the following keys: 'Args' or 'Function' and 'Args'"

/** Fabric's checks of -c: an object holding Args, or Function and Args (keys in any case), nothing else. */
function checkCtor (text: string): void {
  if (text === '{}') throw new Error("Empty JSON chaincode parameters must contain the following keys: 'Args' or 'Function' and 'Args'")
  let node: JsonNode
  try {
    node = parseGoJson(text)
  } catch (err) {
    throw new Error(`Chaincode argument error: ${(err as Error).message}`)
  }
  if (node.kind !== 'object') throw new Error(`Chaincode argument error: -c must be a JSON object. ${ctorKeys}`)
  const keys = new Set(node.entries.map(([k]) => k))
  const lower = new Set([...keys].map(k => k.toLowerCase()))
  if (!lower.has('args') || (keys.size === 2 && !lower.has('function')) || keys.size > 2) throw new Error(ctorKeys)
}

/** -a as json.Unmarshal into []string reads it. */
function parseAttributes (text: string): string[] {
  let node: JsonNode
  try {
    node = parseGoJson(text)
  } catch (err) {
    throw new Error(`Chaincode argument error: ${(err as Error).message}`)
  }
  if (node.kind === 'null') return []
  if (node.kind !== 'array') throw new Error(`Chaincode argument error: json: cannot unmarshal ${node.kind} into Go value of type []string`)
  return node.items.map(item => {
    if (item.kind === 'string') return item.value
    if (item.kind === 'null') return ''
    throw new Error(`Chaincode argument error: json: cannot unmarshal ${item.kind} into Go value of type string`)
  })
}

/** -l: Fabric's languages by name, any case; NODE for a -p package, GOLANG otherwise, as Fabric defaults. */
function language (flags: SpecFlags): ChaincodeSpec_Type {
  const lang = flags.lang ?? (flags.path !== undefined ? 'node' : 'golang')
  const type = ChaincodeSpec_Type[lang.toUpperCase() as keyof typeof ChaincodeSpec_Type] as ChaincodeSpec_Type | undefined
  if (type === undefined || type === ChaincodeSpec_Type.UNDEFINED) throw new Error(`unknown chaincode language "${lang}": use golang, node, car or java`)
  return type
}

/**
 * Fabric's getChaincodeSpecification: the flags checked and turned into a ChaincodeSpec. The
 * language is checked first and a missing name says which flag the verb needs.
 */
export function chaincodeSpec (flags: SpecFlags, verb: 'deploy' | 'invoke' | 'query'): ChaincodeSpec {
  const type = language(flags)
  if (flags.name === undefined && flags.path === undefined) {
    throw new Error(verb === 'deploy'
      ? 'Must supply value for chaincode path parameter (-p PATH; in dev mode -n NAME).'
      : `Must supply value for chaincode name parameter (-n NAME, as deploy printed it) to ${verb}.`)
  }
  checkCtor(flags.ctor)
  let ctorMsg
  try {
    ctorMsg = parseChaincodeInput(flags.ctor)
  } catch (err) {
    throw new Error(`Chaincode argument error: ${(err as Error).message}`)
  }
  return create(ChaincodeSpecSchema, {
    type,
    chaincodeID: { path: flags.path ?? '', name: flags.name ?? '' },
    ctorMsg,
    attributes: parseAttributes(flags.attributes)
  })
}

/**
 * A NODE chaincode from -p is packaged here and deployed as a whole transaction through
 * Peer.ProcessTransaction (Devops.Deploy takes only a spec, and the peer may be elsewhere);
 * anything else goes to Devops.Deploy, as Fabric's CLI sends it.
 */
async function deploy (peer: LocalPeer, flags: SpecFlags): Promise<string> {
  const spec = await withUser(peer, chaincodeSpec(flags, 'deploy'), flags)
  // A user's transaction is signed at the peer, which holds the user's keys: it packages the path itself.
  if (spec.type !== ChaincodeSpec_Type.NODE || flags.path === undefined || spec.secureContext !== '') {
    const cds = await peer.call<ChaincodeDeploymentSpec>(Devops, 'deploy', spec).catch(failedTo('Error building chaincode'))
    return cds.chaincodeSpec?.chaincodeID?.name ?? ''
  }
  if (flags.name !== undefined) throw new Error('-n cannot name a NODE chaincode deployed from -p: its name is derived from the package and the constructor')
  // The CLI packages the user's own files on their own machine: any path of theirs will do.
  const cds = nodeDeploymentSpec(await packageChaincode(flags.path, { roots: [parse(resolve(flags.path)).root] }), spec.ctorMsg?.args ?? [])
  cds.chaincodeSpec!.attributes = spec.attributes
  const name = cds.chaincodeSpec!.chaincodeID!.name
  const res = await peer.call<Response>(Peer, 'processTransaction', newDeployTransaction(cds, name, timestampNow())).catch(failedTo('Error building chaincode'))
  if (res.status !== Response_StatusCode.SUCCESS) throw new Error(`Error building chaincode: ${fromUtf8(res.msg)}`)
  return name
}

async function invocation (peer: LocalPeer, flags: SpecFlags, verb: 'invoke' | 'query'): Promise<ChaincodeInvocationSpec> {
  const spec = await withUser(peer, chaincodeSpec(flags, verb), flags)
  if (spec.type === ChaincodeSpec_Type.NODE && flags.name === undefined) throw new Error('a NODE chaincode is invoked and queried by name: give -n with the name deploy printed')
  return create(ChaincodeInvocationSpecSchema, { chaincodeSpec: spec })
}

/** Devops.Invoke or Query; a FAILURE answer is an error too (a Fabric peer may send one). */
async function invokeOrQuery (peer: LocalPeer, method: 'invoke' | 'query', flags: SpecFlags): Promise<Uint8Array> {
  const what = method === 'invoke' ? 'Error invoking chaincode' : 'Error querying chaincode'
  const res = await peer.call<Response>(Devops, method, await invocation(peer, flags, method)).catch(failedTo(what))
  if (res.status !== Response_StatusCode.SUCCESS) throw new Error(`${what}: ${fromUtf8(res.msg)}`)
  return res.msg
}

interface SubmitFlags extends SpecFlags { wait?: string | true, json?: boolean }

function withWaitOption (cmd: Command): Command {
  return cmd.option('-w, --wait [duration]', 'return only once the transaction is in a block, failing if it is rejected (default 30s); without it, success means accepted into the queue, as in Fabric')
}

function withJsonOption (cmd: Command): Command {
  return cmd.option('--json', 'print one JSON object on stdout instead of the lines (see README, "The weft command"); exit statuses stay the same')
}

/** One JSON object, as --json prints it. */
function printJson (value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

/** With --json, a failure is also reported on stdout as {"status":"failed","error":…}; the `Error:` line and status 1 stay. */
async function orJsonFailure (flags: { json?: boolean }, verb: () => Promise<void>): Promise<void> {
  try {
    await verb()
  } catch (err) {
    if (flags.json === true) printJson({ status: 'failed', error: err instanceof Error ? err.message : String(err) })
    throw err
  }
}

/** The block holding a committed transaction, when the peer's REST service says (it is only looked up for --json). */
async function blockOf (peer: LocalPeer, txid: string): Promise<number | undefined> {
  try {
    const found = await lookupTransaction(peer, txid)
    return found.status === 'committed' ? found.block : undefined
  } catch {
    return undefined
  }
}

/**
 * Sends a deploy or invoke and prints its line. Fabric's answer means "accepted into the queue";
 * with --wait this listens on the events service first and then reports the outcome: committed,
 * or rejected with the chaincode's error (exit status 1).
 */
async function submitted (peer: LocalPeer, flags: SubmitFlags, send: () => Promise<string>, line: (txid: string) => string): Promise<void> {
  const json = flags.json === true
  if (flags.wait === undefined) {
    const txid = await send()
    if (json) printJson({ txid, status: 'accepted' })
    else process.stdout.write(`${line(txid)}\n`)
    return
  }
  const waitMs = flags.wait === true ? 30_000 : parseGoDuration(flags.wait)
  const watch = await peer.watchTransactions(waitMs)
  try {
    const txid = await send()
    if (!json) process.stdout.write(`${line(txid)}\n`)
    let outcome: TxOutcome
    try {
      outcome = await watch.outcome(txid, waitMs)
    } catch (err) {
      if (!json) throw err
      printJson({ txid, status: 'accepted', error: (err as Error).message })
      process.exitCode = 1
      return
    }
    if (!outcome.committed) {
      if (!json) throw new Error(`transaction ${txid} was rejected: ${outcome.rejected}`)
      printJson({ txid, status: 'rejected', error: outcome.rejected })
      process.exitCode = 1
      return
    }
    if (json) printJson({ txid, status: 'committed', block: await blockOf(peer, txid) })
    else process.stdout.write(`Transaction ${txid} committed\n`)
  } finally {
    watch.end()
  }
}

function withSpecOptions (cmd: Command): Command {
  return withConfigOption(cmd)
    .option('-n, --name <name>', 'name of the chaincode, as deploy printed it')
    .option('-p, --path <path>', 'NODE: a JS/TS entry file or directory, packaged here; GOLANG: the import path the peer builds')
    .option('-l, --lang <language>', 'golang, node, car or java (default: node with -p, golang otherwise)')
    .option('-c, --ctor <json>', 'arguments as JSON: {"Args":["init","a","100"]} or {"Function":"f","Args":[...]}', '{}')
    .option('-a, --attributes <json>', 'user attributes as a JSON list of strings', '[]')
    .option('-u, --username <user>', 'with security.enabled: the user who signs, logged in with `weft network login`')
}

/**
 * The rest of Fabric's getChaincodeSpecification: with security the user must have a login
 * token here, and names the user in secureContext; without it -u is only warned about.
 */
async function withUser (peer: LocalPeer, spec: ChaincodeSpec, flags: SpecFlags): Promise<ChaincodeSpec> {
  const user = flags.username
  if (!peer.securityEnabled) {
    if (user !== undefined) log.warn('Username supplied but security is disabled.')
    return spec
  }
  if (user === undefined) throw new Error('Must supply username for chaincode when security is enabled')
  if (!(await peer.tokens.has(user))) throw new Error(`User '${user}' not logged in. Use the 'peer network login' command to obtain a security token.`)
  spec.secureContext = user
  if (peer.privacy) spec.confidentialityLevel = ConfidentialityLevel.CONFIDENTIAL
  return spec
}

/** `weft chaincode deploy|invoke|query`, Fabric's `peer chaincode` against the peer at peer.address. */
export function chaincodeCommand (): Command {
  const cc = new Command('chaincode').description('chaincode commands (talk to the peer at peer.address, CORE_PEER_ADDRESS)')
  withJsonOption(withWaitOption(withSpecOptions(cc.command('deploy').description('deploy a chaincode; prints its name'))))
    .action(async (flags: SubmitFlags) => {
      await runClientVerb(flags, async peer => {
        await orJsonFailure(flags, async () => { await submitted(peer, flags, async () => await deploy(peer, flags), name => `Deploy chaincode: ${name}`) })
      })
    })
  withJsonOption(withWaitOption(withSpecOptions(cc.command('invoke').description('invoke a chaincode; prints the transaction id'))))
    .action(async (flags: SubmitFlags) => {
      await runClientVerb(flags, async peer => {
        await orJsonFailure(flags, async () => { await submitted(peer, flags, async () => fromUtf8(await invokeOrQuery(peer, 'invoke', flags)), txid => `Successfully invoked transaction: ${txid}`) })
      })
    })
  withJsonOption(withSpecOptions(cc.command('query').description('query a chaincode; prints the result')))
    .option('-r, --raw', 'print the result as raw bytes')
    .option('-x, --hex', 'print the result in hexadecimal')
    .action(async (flags: QueryFlags & { json?: boolean }) => {
      await runClientVerb(flags, async peer => {
        await orJsonFailure(flags, async () => {
          if (flags.raw === true && (flags.hex === true || flags.json === true)) throw new Error(`Options --raw (-r) and ${flags.hex === true ? '--hex (-x)' : '--json'} are not compatible`)
          const result = await invokeOrQuery(peer, 'query', flags)
          if (flags.json === true) printJson({ status: 'ok', result: flags.hex === true ? toHex(result) : fromUtf8(result) })
          else if (flags.raw === true) process.stdout.write(concatBytes(utf8('Query Result (Raw): '), result))
          else if (flags.hex === true) process.stdout.write(`Query Result: ${toHex(result)}\n`)
          else process.stdout.write(concatBytes(utf8('Query Result: '), result, utf8('\n')))
        })
      })
    })
  withConfigOption(cc.command('run').description('dev mode: run a JS/TS chaincode here, registered at the peer as a user-started chaincode (as CORE_CHAINCODE_ID_NAME=NAME ./chaincode does)'))
    .requiredOption('-p, --path <file>', 'the chaincode module (exports init, invoke and query)')
    .option('-n, --name <name>', 'name to register under (default CORE_CHAINCODE_ID_NAME)')
    .action(async (flags: ClientFlags & { path: string, name?: string }) => {
      await runClientVerb(flags, async peer => {
        const name = flags.name ?? process.env.CORE_CHAINCODE_ID_NAME ?? ''
        if (name === '') throw new Error('Error chaincode id not provided: give -n NAME or set CORE_CHAINCODE_ID_NAME')
        const chaincode = await loadChaincodeFile(flags.path)
        await runExternalChaincode({
          address: peer.address, name, chaincode, creds: peer.creds, tls: peer.tls,
          onRegistered: () => { process.stdout.write(`Chaincode ${name} registered at ${peer.address}\n`) }
        })
        throw new Error(`the peer at ${peer.address} ended the stream of chaincode ${name}`)
      })
    })
  return cc
}
