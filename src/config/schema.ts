import { bool, duration, int, list, map, str, type ConfigOf } from './fields.ts'

/** Weft's PBFT behaviours that `pbft.weft.disable` can switch off (src/consensus/pbft/config.ts says what each does). */
export const pbftExtensionNames = ['retransmit', 'dropDuplicateRequests', 'viewSync', 'holdFutureViews', 'lateJoin', 'earlyStateTransfer', 'executeOnce', 'timerGrace'] as const

/**
 * Every key of Fabric 0.6.1's peer/core.yaml with its default, the noops and PBFT plugin
 * configs (consensus/{noops,pbft}/config.yaml, env prefixes CORE_NOOPS_ / CORE_PBFT_, so
 * they live under `noops` and `pbft` here), plus Weft's own keys (peer.libp2p.*, web.*).
 * Environment names follow from the path: CORE_ + path in capitals joined by `_`.
 */
export const coreSchema = {
  cli: { address: str('0.0.0.0:7052') },
  rest: {
    enabled: bool(true),
    address: str('0.0.0.0:7050'),
    validPatterns: { enrollmentID: str('^\\w+$') }
  },
  logging: {
    // Each value is Fabric's spec: a default level, then module=level overrides ("warning:consensus=debug").
    // CORE_LOGGING_LEVEL: overrides the per-command levels below when non-empty.
    level: str(''),
    peer: str('warning'),
    node: str('info'),
    network: str('warning'),
    chaincode: str('warning'),
    version: str('warning'),
    // Weft's: one JSON object a line (time, level, module, msg) instead of text.
    format: str('text', ['text', 'json'], 'logging.format')
  },
  peer: {
    id: str('jdoe'),
    networkId: str('dev'),
    listenAddress: str('0.0.0.0:7051'),
    address: str('0.0.0.0:7051'),
    addressAutoDetect: bool(false),
    gomaxprocs: int(-1),
    workers: int(2),
    sync: {
      blocks: { channelSize: int(10, 1) },
      state: {
        snapshot: { channelSize: int(50, 1), writeTimeout: duration('60s', 'nanoseconds') },
        deltas: { channelSize: int(20, 1) }
      }
    },
    validator: {
      enabled: bool(true),
      consensus: {
        // Fabric treats anything but "pbft" as noops; Weft refuses names it does not know.
        plugin: str('noops', ['noops', 'pbft']),
        buffersize: int(1000)
      },
      // Weft's own key: a YAML/JSON file listing the validators (name vpN, libp2p peerId, address).
      network: str(''),
      events: {
        address: str('0.0.0.0:7053'),
        buffersize: int(100, 0),
        // Milliseconds: < 0 drop when the buffer is full, 0 block, > 0 wait that long then fail.
        timeout: int(10)
      }
    },
    tls: {
      enabled: bool(false),
      cert: { file: str('testdata/server1.pem') },
      key: { file: str('testdata/server1.key') },
      // Weft's (Fabric 1.x's name): the CA clients trust; empty, they trust cert.file as Fabric 0.6.1 does.
      rootcert: { file: str('') },
      serverhostoverride: str('')
    },
    pki: {
      eca: { paddr: str('localhost:7054') },
      tca: { paddr: str('localhost:7054') },
      tlsca: { paddr: str('localhost:7054') },
      tls: {
        enabled: bool(false),
        rootcert: { file: str('tlsca.cert') },
        serverhostoverride: str('')
      }
    },
    discovery: {
      rootnode: str(''),
      period: duration('5s', 'nanoseconds'),
      persist: bool(true),
      touchPeriod: duration('6s', 'nanoseconds'),
      touchMaxNodes: int(100),
      // Weft's own keys: how many peer addresses discovery keeps, and how long an unreachable one stays.
      maxNodes: int(256, 1),
      expiry: duration('1h', 'refuse')
    },
    fileSystemPath: str('/var/hyperledger/production'),
    db: {
      maxLogFileSize: int(10485760),
      keepLogFileNum: int(10),
      logLevel: str('warn')
    },
    profile: {
      enabled: bool(false),
      // Fabric binds its profiler on 0.0.0.0:6060; Weft's metrics endpoint stays on loopback unless told.
      listenAddress: str('127.0.0.1:6060')
    },
    libp2p: {
      address: str('0.0.0.0:7055'),
      listen: list([])
    },
    // Weft's own keys: what each listener (REST, gRPC, events, libp2p) accepts.
    limits: {
      connections: int(512, 1),
      connectionsPerAddress: int(128, 1),
      idleTimeout: duration('120s', 'refuse'),
      handshakeTimeout: duration('10s', 'refuse')
    }
  },
  vm: {
    endpoint: str('unix:///var/run/docker.sock'),
    docker: {
      tls: {
        enabled: bool(false),
        cert: { file: str('/path/to/server.pem') },
        ca: { file: str('/path/to/ca.pem') },
        key: { file: str('/path/to/server-key.pem') }
      },
      hostConfig: map({
        NetworkMode: 'host',
        Dns: null,
        LogConfig: { Type: 'json-file', Config: { 'max-size': '50m', 'max-file': '5' } },
        Memory: 2147483648
      })
    }
  },
  chaincode: {
    id: { path: str(''), name: str('') },
    golang: { Dockerfile: str('from hyperledger/fabric-baseimage\n#from utxo:0.1.0\nCOPY src $GOPATH/src\nWORKDIR $GOPATH\n') },
    car: { Dockerfile: str('FROM hyperledger/fabric-ccenv:$(ARCH)-$(PROJECT_VERSION)\n') },
    java: { Dockerfile: str('from hyperledger/fabric-javaenv:$(ARCH)-$(PROJECT_VERSION)\n') },
    startuptimeout: int(300000, 0),
    deploytimeout: int(30000, 0),
    mode: str('net', ['net', 'dev']),
    installpath: str('/opt/gopath/bin/'),
    keepalive: int(0),
    // Weft's own key: directories a deploy's NODE chaincode path may name (empty: the shipped
    // examples and ./chaincode); every file a package bundles must lie inside one too.
    node: { roots: list([]) }
  },
  ledger: {
    blockchain: map({}),
    state: {
      deltaHistorySize: int(500, 0),
      dataStructure: {
        name: str('buckettree', ['buckettree', 'trie', 'raw']),
        configs: {
          numBuckets: int(1000003, 1),
          maxGroupingAtEachLevel: int(5, 2),
          bucketCacheSize: int(100)
        }
      }
    }
  },
  security: {
    enabled: bool(false),
    enrollID: str('vp'),
    enrollSecret: str('f3489fy98ghf'),
    privacy: bool(false),
    level: int(256),
    hashAlgorithm: str('SHA3'),
    tcert: { batch: { size: int(200) } },
    attributes: { enabled: bool(false) },
    multithreading: { enabled: bool(false), multichannel: bool(false) },
    confidentialityProtocolVersion: str('1.2')
  },
  statetransfer: {
    recoverdamage: bool(true),
    blocksperrequest: int(20, 1),
    maxdeltas: int(200, 1),
    timeout: {
      singleblock: duration('2s', 'refuse'),
      singlestatedelta: duration('2s', 'refuse'),
      fullstate: duration('60s', 'refuse')
    }
  },
  noops: {
    block: {
      size: int(500, 1),
      // A unitless number is seconds here, as noops itself reads it.
      wait: duration('1s', 'seconds', true)
    }
  },
  pbft: {
    general: {
      mode: str('batch', ['batch'], 'PBFT mode'),
      N: int(4, 1),
      f: int(1, 0),
      K: int(10, 1),
      logmultiplier: int(4, 2),
      batchsize: int(500, 1),
      byzantine: bool(false),
      viewchangeperiod: int(0, 0),
      timeout: {
        batch: duration('1s', 'refuse', true),
        request: duration('2s', 'refuse', true),
        viewchange: duration('2s', 'refuse', true),
        resendviewchange: duration('2s', 'refuse', true),
        nullrequest: duration('0s', 'refuse', true),
        broadcast: duration('1s', 'refuse', true)
      }
    },
    executor: { queuesize: int(30, 1) },
    // Weft's own key: PBFT extensions to switch off (names above, or `all`); a network with
    // Fabric replicas needs at least executeOnce off on every Weft replica.
    weft: { disable: list([], ['all', ...pbftExtensionNames]) }
  },
  web: {
    enabled: bool(true),
    address: str('127.0.0.1:7080')
  }
} as const

export type CoreConfig = ConfigOf<typeof coreSchema>
