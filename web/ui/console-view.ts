// Chaincode console: deploy an example or pasted JS chaincode, invoke and query it, and see the
// result and the transaction's block.
import { short } from '../app/chain.ts'
import { TransactionFailedError, type PeerFacade } from '../app/facade.ts'
import { isQuotaError, QUOTA_TEXT } from '../app/notices.ts'
import { EXAMPLES, exampleOriginal } from '../app/sources.ts'
import { h, parseArgs } from './dom.ts'

/** An error in words that say what happened and what to do. */
export function explain (err: unknown): string {
  const msg = (err as Error)?.message ?? String(err)
  if (isQuotaError(err)) return QUOTA_TEXT
  if (err instanceof TransactionFailedError) return `Chaincode error: ${msg}`
  // The CA's own reason (wrong secret, unknown user) or why it could not be reached.
  if (/membership services|security is not enabled/.test(msg)) return msg
  if (/no peer known to send|calling ProcessTransaction|unreachable|dial|ECONNREFUSED|connection/i.test(msg)) return `Peer unreachable: ${msg}. Check that the Node peer is running; the tab reconnects by itself.`
  if (/^Error:|chaincode|Incorrect number|Invalid|not found|Nil amount|Failed to/i.test(msg)) return `Chaincode error: ${msg}`
  if (/has not started|not started yet/i.test(msg)) return msg
  return `Error: ${msg}`
}

interface Known { name: string, label: string }

/** Where a transaction committed: a block of this tab's chain, or (security, no chat) the Node peer's. */
function where (block: number | undefined): string {
  return block === undefined ? 'by the Node peer' : `in block #${block}`
}

export function mountConsoleView (root: HTMLElement, facade: () => PeerFacade | undefined): { attach: () => Promise<void> } {
  const known = new Map<string, Known>()
  const example = h('select', {}, EXAMPLES.map(e => h('option', { value: e.name }, e.title)), h('option', { value: '' }, 'paste an ES module…'))
  const source = h('textarea', { spellcheck: 'false', wrap: 'off', rows: 16, 'aria-label': 'chaincode source', placeholder: 'export async function init (stub, fn, args) {}\nexport async function invoke (stub, fn, args) { await stub.putState(args[0], args[1]) }\nexport async function query (stub, fn, args) { return stub.getState(args[0]) }' })
  const deployArgs = h('input', { size: 40, value: EXAMPLES[0].deploy.join(' ') })
  const deployOut = h('div')
  const help = h('p', { class: 'muted' }, EXAMPLES[0].help)
  const origin = h('p', { class: 'muted source-note' })
  const ccSelect = h('select', { 'aria-label': 'deployed chaincode' }, h('option', { value: '' }, '(deploy one first)'))
  const ccName = h('input', { size: 36, placeholder: 'or a chaincode name', 'aria-label': 'chaincode name' })
  const callArgs = h('input', { size: 40, value: EXAMPLES[0].invoke.join(' ') })
  const queryArgs = h('input', { size: 40, value: EXAMPLES[0].query.join(' ') })
  const callOut = h('div')
  const history = h('ul', { class: 'events history' })
  // Users (security enabled): logged in here, their keys in this tab's IndexedDB.
  const loginUser = h('input', { id: 'login-user', size: 16, placeholder: 'user', 'aria-label': 'user', autocomplete: 'username' })
  const loginSecret = h('input', { id: 'login-secret', size: 16, type: 'password', placeholder: 'secret', 'aria-label': 'secret', autocomplete: 'current-password' })
  const loginOut = h('div', { id: 'login-result' })
  const userList = h('ul', { id: 'user-list', class: 'events' })
  const signAs = h('select', { id: 'sign-as', 'aria-label': 'sign as' }, h('option', { value: '' }, '(no user)'))
  const user = (): string | undefined => signAs.value === '' ? undefined : signAs.value
  const showUsers = async (f: PeerFacade): Promise<void> => {
    usersPanel.hidden = !f.hasUsers
    const names = await f.users()
    userList.replaceChildren(...names.map(n => h('li', { 'data-user': n }, n, ' ', h('button', {
      class: 'btn',
      title: `forget ${n}'s keys in this tab`,
      onclick: () => { void f.logout(n).then(() => showUsers(f)) }
    }, 'Log out'))))
    const keep = signAs.value
    signAs.replaceChildren(h('option', { value: '' }, '(no user)'), ...names.map(n => h('option', { value: n }, n)))
    signAs.value = names.includes(keep) ? keep : names[0] ?? ''
  }

  const loadExample = async (): Promise<void> => {
    const ex = EXAMPLES.find(e => e.name === example.value)
    if (ex === undefined) {
      source.value = ''
      source.readOnly = false
      origin.textContent = ''
      help.textContent = 'Plain JavaScript, one self-contained ES module exporting init, invoke and query (stub, fn, args).'
      return
    }
    deployArgs.value = ex.deploy.join(' ')
    callArgs.value = ex.invoke.join(' ')
    queryArgs.value = ex.query.join(' ')
    help.textContent = ex.help
    source.value = await exampleOriginal(ex.name)
    source.readOnly = true
    origin.textContent = `examples/chaincode/${ex.name}.ts, read-only; Deploy sends it bundled into one ES module, as weft chaincode deploy -p does.`
  }
  example.addEventListener('change', () => { void loadExample() })

  const show = (out: HTMLElement, ok: boolean, text: string): void => {
    out.replaceChildren(h('div', { class: `result ${ok ? 'ok' : 'err'}` }, text))
    history.prepend(h('li', {}, `${new Date().toLocaleTimeString()} ${ok ? '✓' : '✗'} ${text}`))
  }
  const remember = (name: string, label: string): void => {
    if (name === '' || known.has(name)) return
    known.set(name, { name, label })
    if (ccSelect.options.length === 1 && ccSelect.options[0].value === '') ccSelect.replaceChildren()
    ccSelect.append(h('option', { value: name }, `${label} · ${short(name, 12)}`))
    updateCalls()
  }
  const selected = (): string => ccName.value.trim() || ccSelect.value
  // Invoke and query need a chaincode: deployed here, or named.
  const callHint = h('p', { class: 'hint' }, 'Deploy a chaincode first (left), or type the name of one deployed elsewhere.')
  const updateCalls = (): void => {
    const none = selected() === ''
    for (const b of [invokeBtn, queryBtn]) {
      if (!b.classList.contains('running')) b.disabled = none
      b.title = none ? 'deploy or name a chaincode first' : ''
    }
    callHint.hidden = !none
  }
  ccSelect.addEventListener('change', () => updateCalls())
  ccName.addEventListener('input', () => updateCalls())

  /** On a click of `btn` (disabled meanwhile): `fn` with the running peer; a stopped peer or a failure is shown in `out`. */
  const onClick = (btn: HTMLButtonElement, out: HTMLElement, fn: (f: PeerFacade) => Promise<void>): void => {
    btn.addEventListener('click', () => {
      btn.disabled = true
      btn.classList.add('running')
      const run = async (): Promise<void> => {
        const f = facade()
        if (f === undefined) { show(out, false, 'The peer is not running.'); return }
        try {
          await fn(f)
        } catch (err) {
          show(out, false, explain(err))
        }
      }
      void run().finally(() => {
        btn.classList.remove('running')
        btn.disabled = false
        updateCalls()
      })
    })
  }

  const deployBtn = h('button', { class: 'btn primary' }, 'Deploy')
  onClick(deployBtn, deployOut, async f => {
    deployOut.replaceChildren(h('div', { class: 'result' }, 'deploying… (waits for the block)'))
    const args = parseArgs(deployArgs.value)
    const ex = example.value !== '' ? example.value : undefined
    const r = await f.deploy(ex !== undefined ? { example: ex, args } : { source: source.value, args }, { user: user() })
    remember(r.name, ex ?? 'pasted')
    ccSelect.value = r.name
    ccName.value = ''
    updateCalls()
    show(deployOut, true, `deployed ${ex ?? 'pasted chaincode'} as ${r.name}\n${r.block === undefined ? 'committed ' : ''}${where(r.block)}`)
  })
  const invokeBtn = h('button', { class: 'btn primary' }, 'Invoke')
  onClick(invokeBtn, callOut, async f => {
    callOut.replaceChildren(h('div', { class: 'result' }, 'invoking… (waits for the block)'))
    const r = await f.invoke(selected(), parseArgs(callArgs.value), { user: user() })
    show(callOut, true, `invoke ${callArgs.value}\ntxid ${r.txid}\ncommitted ${where(r.block)}`)
  })
  const queryBtn = h('button', { class: 'btn' }, 'Query')
  onClick(queryBtn, callOut, async f => {
    const args = parseArgs(queryArgs.value)
    const r = await f.query(selected(), args, { user: user() })
    show(callOut, true, `query ${args.join(' ')}\n→ ${r}`)
  })

  const loginBtn = h('button', { id: 'login-button', class: 'btn' }, 'Log in')
  onClick(loginBtn, loginOut, async f => {
    const name = loginUser.value.trim()
    await f.login(name, loginSecret.value)
    loginSecret.value = ''
    await showUsers(f)
    signAs.value = name
    show(loginOut, true, `${name} is logged in: its keys are in this tab`)
  })

  updateCalls()
  const usersPanel = h('div', { class: 'panel', hidden: true }, h('h2', {}, 'Users', h('small', {}, 'security enabled: enroll with the CA through the Node peer; keys stay in this tab (IndexedDB)')),
    h('div', { class: 'row' }, h('label', {}, 'log in'), loginUser, loginSecret, loginBtn),
    loginOut,
    h('div', { class: 'row' }, h('label', {}, 'sign as'), signAs),
    userList)
  root.append(
    h('div', { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Deploy', h('small', {}, 'JS chaincode (NODE): an example or pasted source')),
        h('div', { class: 'row' }, h('label', {}, 'chaincode'), example),
        source, origin, help,
        h('div', { class: 'row' }, h('label', {}, 'constructor'), deployArgs, deployBtn),
        deployOut),
      h('div', { class: 'panel' }, h('h2', {}, 'Invoke · Query'),
        h('div', { class: 'row' }, h('label', {}, 'chaincode'), ccSelect, ccName),
        callHint,
        h('div', { class: 'row' }, h('label', {}, 'invoke'), callArgs, invokeBtn),
        h('div', { class: 'row' }, h('label', {}, 'query'), queryArgs, queryBtn),
        h('p', { class: 'muted' }, 'Arguments: function first, separated by spaces ("quoted words" allowed) or a JSON array. An invoke returns once its block is in this peer\'s chain.'),
        callOut,
        h('h2', { style: 'margin-top:14px' }, 'History'), history)),
    usersPanel
  )

  let attached = false
  return {
    async attach () {
      const f = facade()
      void loadExample()
      if (f === undefined) return
      // Users may log in through window.weft too: list them again whenever the view is shown.
      await showUsers(f)
      if (attached) return
      attached = true
      for (const b of (await f.latestBlocks(500)).reverse()) for (const t of b.txs) if (t.type === 'deploy') remember(t.chaincode, t.args.join(' ') || 'deployed')
      f.onBlock(b => { for (const t of b.txs) if (t.type === 'deploy') remember(t.chaincode, t.args.join(' ') || 'deployed') })
    }
  }
}
