// Exchange accounts: the user's accounts with their balances, and a form for a paper
// account on the simulated exchange (`sim`).
import { errorText, h, number, onSubmit, panel } from './dom.js'
import { liveList, refreshers } from './live.js'

/** `{USDT: 10000, BTC: 0.1}` of a ccxt balance's totals, zeros left out. */
function totals (balance) {
  return Object.entries(balance.total || {}).filter(([, amount]) => amount)
}

export function accountsPanel ({ client }) {
  const exchanges = client.service('exchanges')
  const balances = new Map()
  const loading = new Set()

  async function loadBalance (account) {
    if (loading.has(account._id)) return
    loading.add(account._id)
    try {
      balances.set(account._id, totals(await exchanges.balance({ id: account._id })))
    } catch (error) {
      balances.set(account._id, errorText(error))
    } finally {
      loading.delete(account._id)
    }
    list.redraw()
  }

  function row (account) {
    const balance = balances.get(account._id)
    if (balance === undefined) loadBalance(account)
    return h('div', { class: 'card account', dataset: { id: account._id } },
      h('div', { class: 'card-title' },
        h('strong', {}, account.label || account.exchange),
        h('span', { class: 'tag' }, account.exchange),
        account.paper && h('span', { class: 'tag paper' }, 'paper'),
        account.active === false && h('span', { class: 'tag off' }, 'inactive')),
      h('div', { class: 'balance' },
        balance === undefined
          ? '…'
          : typeof balance === 'string'
            ? h('span', { class: 'error' }, balance)
            : balance.length ? balance.map(([currency, amount]) => h('span', { class: 'amount' }, `${number(amount)} ${currency}`)) : 'empty'),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'small', onClick: () => loadBalance(account) }, 'Refresh balance'),
        h('button', { type: 'button', class: 'small danger', onClick: () => confirm(`Remove the account "${account.label || account.exchange}"?`) && exchanges.remove(account._id) }, 'Remove')))
  }

  refreshers.add(() => balances.clear()) // before the list redraws: its rows load them again
  const list = liveList(exchanges, { row, empty: 'No exchange account yet: create a paper one below.' })
  // A fill changes a paper account's balance: the trades service says when (if it is there).
  client.service('trades').on('created', (trade) => {
    const account = list.records.get(trade.exchangeId || trade.accountId)
    if (account) loadBalance(account)
  })

  const status = h('p', { class: 'status', role: 'status' })
  const form = h('form', { class: 'row-form', id: 'paper-account-form' },
    h('label', {}, 'Label', h('input', { name: 'label', required: true, maxlength: '100', value: 'practice' })),
    h('label', {}, 'Starting USDT', h('input', { name: 'usdt', type: 'number', min: '0', step: 'any', required: true, value: '10000' })),
    h('button', { type: 'submit' }, 'Create paper account (sim)'),
    status)
  onSubmit(form, status, async ({ label, usdt }) => {
    await exchanges.create({ exchange: 'sim', label, paperBalances: { USDT: Number(usdt) } })
  })
  return panel('accounts', 'Exchange accounts', list.element, form)
}
