import { bool, int, map, str, type ConfigOf } from '../config/fields.ts'
import { ConfigError, loadSchema } from '../config/load.ts'

/** Fabric 0.6.1's default users (membersrvc.yaml `eca.users`): `role secret [affiliation [metadata [registrar]]]`. */
const fabricUsers: Record<string, string> = {
  admin: '1 Xurw3yU9zI0l institution_a \'{"registrar":{"roles":["client","peer","validator","auditor"],"delegateRoles":["client"]}}\'',
  WebAppAdmin: '1 DJY27pEnl16d institution_a \'{"registrar":{"roles":["client"]}}\'',
  lukas: '1 NPKYL39uKbkj bank_a',
  system_chaincode_invoker: '1 DRJ20pEql15a institution_a',
  diego: '1 DRJ23pEQl16a institution_a',
  jim: '1 6avZQLwcUe9b bank_a',
  binhn: '1 7avZQLwcUe9q institution_a',
  alice: '1 CMS10pEQlB16 bank_a',
  bob: '1 NOE63pEQbL25 bank_a',
  assigner: '1 Tc43PeqBl11 bank_a',
  vp: '4 f3489fy98ghf',
  test_vp0: '4 MwYpmSRjupbT',
  test_vp1: '4 5wgHK9qqYaPy',
  test_vp2: '4 vQelbRvja7cJ',
  test_vp3: '4 9LKqKH5peurL',
  test_vp4: '4 Pqh90CEW5juZ',
  test_vp5: '4 FfdvDkAdY81P',
  test_vp6: '4 QiXJgHyV4t7A',
  test_vp7: '4 twoKZouEyLyB',
  test_vp8: '4 BxP7QNh778gI',
  test_vp9: '4 wu3F1EwJWHvQ',
  test_user0: '1 MS9qrN8hFjlE bank_a',
  test_user1: '1 jGlNl6ImkuDo institution_a',
  test_user2: '1 zMflqOKezFiA bank_c',
  test_user3: '1 vWdLCE00vJy0 bank_a',
  test_user4: '1 4nXSrfoYGFCP institution_a',
  test_user5: '1 yg5DVhm0er1z bank_b',
  test_user6: '1 b7pmSxzKNFiw bank_a',
  test_user7: '1 YsWZD4qQmYxo institution_a',
  test_user8: '1 W8G0usrU7jRk bank_a',
  test_user9: '1 H80SiB5ODKKQ institution_a',
  test_nvp0: '2 iywrPBDEPl0K bank_a',
  test_nvp1: '2 DcYXuRSocuqd institution_a',
  test_nvp2: '2 flpChShlY7xt bank_c',
  test_nvp3: '2 jeruawMomclo bank_a',
  test_nvp4: '2 RMYVxSZCk370 institution_a',
  test_nvp5: '2 XHYVCIJGZGK7 bank_b',
  test_nvp6: '2 4cIn63j8ahYp bank_a',
  test_nvp7: '2 E7FAJUtWVn2h institution_a',
  test_nvp8: '2 LJu8DkUilBEH bank_a',
  test_nvp9: '2 VlEsBsiyXSjw institution_a'
}

const fabricAffiliations = {
  banks_and_institutions: {
    banks: ['bank_a', 'bank_b', 'bank_c'],
    institutions: ['institution_a']
  }
}

/**
 * Every key of Fabric 0.6.1's membersrvc/membersrvc.yaml with its value there (Fabric has no
 * defaults of its own: the file is required; Weft starts from its contents). Environment
 * names: MEMBERSRVC_CA_ + the path in capitals joined by `_`, as Fabric's viper.
 */
export const membersrvcSchema = {
  server: {
    gomaxprocs: int(-1),
    rootpath: str('/var/hyperledger/production'),
    cadir: str('.membersrvc'),
    port: str(':7054'),
    tls: { cert: { file: str('') }, key: { file: str('') } }
  },
  security: {
    level: int(256),
    hashAlgorithm: str('SHA3'),
    serverhostoverride: str(''),
    tls_enabled: bool(false),
    client: { cert: { file: str('') } }
  },
  logging: {
    server: str('warning'),
    ca: str('warning'),
    eca: str('warning'),
    ecap: str('warning'),
    ecaa: str('warning'),
    aca: str('warning'),
    acap: str('warning'),
    tca: str('warning'),
    tcap: str('warning'),
    tcaa: str('warning'),
    tlsca: str('warning')
  },
  eca: {
    affiliations: map(fabricAffiliations),
    users: map(fabricUsers)
  },
  tca: { 'attribute-encryption': { enabled: bool(false) } },
  aca: {
    attributes: map({}),
    address: str('localhost:7054'),
    'server-name': str('acap'),
    enabled: bool(false)
  },
  pki: { ca: { subject: { organization: str('Hyperledger'), country: str('US') } } }
} as const

export type MembersrvcConfig = ConfigOf<typeof membersrvcSchema>

export interface LoadCaConfigOptions {
  /** Text of a membersrvc.yaml. */
  yaml?: string
  yamlSource?: string
  /** MEMBERSRVC_CA_* entries override the file. */
  env?: Readonly<Record<string, string | undefined>>
}

/** membersrvc.yaml's values ← YAML text ← MEMBERSRVC_CA_* environment; refuses a level or hash Fabric does not know. */
export function loadCaConfig (options: LoadCaConfigOptions = {}): MembersrvcConfig {
  const config = loadSchema<MembersrvcConfig>(membersrvcSchema, {
    yaml: options.yaml, yamlSource: options.yamlSource ?? 'membersrvc.yaml', env: options.env, envPrefix: 'MEMBERSRVC_CA'
  })
  if (config.security.level !== 256 && config.security.level !== 384) {
    throw new ConfigError(`Security level not allowed: ${config.security.level} (security.level must be 256 or 384)`)
  }
  const hash = config.security.hashAlgorithm.toUpperCase()
  if (hash !== 'SHA2' && hash !== 'SHA3') {
    throw new ConfigError(`Hash Algorithm not recognized: ${config.security.hashAlgorithm} (security.hashAlgorithm must be SHA2 or SHA3)`)
  }
  config.security.hashAlgorithm = hash
  return config
}
