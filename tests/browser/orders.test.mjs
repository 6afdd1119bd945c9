// Service orders in the browser: the call-centre agent takes a repair call
// (starting from the caller's number, the warranty status shows before
// saving); the dispatcher audits and assigns it by hand; the provider, on a
// phone-sized screen, accepts, goes on site, records fault, charges and
// completes it; the service request report prints seed 001's blocks.
//   SHOUHOU_URL=http://127.0.0.1:8080 node --test tests/browser/orders.test.mjs
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, launch, withPage, tid, login, shot } from './lib.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  if (browser) await browser.close()
})

const T = { timeout: 180_000 }
const PW = process.env.SHOUHOU_ADMIN_PASSWORD || 'shouhou'
const PHONE = { viewport: { width: 390, height: 844 }, mobile: true }
let orderId = 0
let orderNumber = ''

// A JSON API call as `user` in its own request context (cookies + CSRF).
async function apiAs(page, user) {
  const req = page.context().request
  const r = await req.post(BASE_URL + '/api/v1/auth/login', { data: { username: user, password: PW } })
  assert.equal(r.status(), 200)
  const csrf = (await r.json()).csrf_token
  return {
    get: async (p) => (await req.get(BASE_URL + '/api/v1' + p)).json(),
    post: async (p, data) => {
      const res = await req.post(BASE_URL + '/api/v1' + p, { data, headers: { 'x-csrf-token': csrf } })
      const body = await res.json()
      assert.ok(res.status() < 300, `${p}: ${res.status()} ${JSON.stringify(body)}`)
      return body
    },
  }
}

test('agent: a phone call becomes a repair order, warranty shown before saving', T, async () => {
  await withPage(browser, 'orders-intake', {}, async (page) => {
    await login(page, { username: 'agent', password: PW })
    await page.goto(BASE_URL + '/orders/new')
    await page.locator(tid('page-order-intake')).waitFor({ state: 'visible' })
    // The caller's number as the phone shows it: 王建国, one customer, one air conditioner.
    await page.locator(tid('intake-key')).fill('139 1234 5678')
    await page.locator(tid('intake-lookup')).click()
    await page.locator(tid('intake-warranty')).waitFor({ state: 'visible' })
    const status = (await page.locator(tid('intake-warranty-status')).innerText()).trim()
    assert.match(status, /收费服务/, status)  // installed 2024-03-01, 12 months: out of warranty
    assert.equal(await page.locator(tid('intake-serial')).inputValue(), 'KFR35-2401-000101')
    assert.equal(await page.locator(tid('intake-county')).inputValue(), '310104')
    // Saving without the problem names what is missing.
    await page.locator(tid('intake-save')).click()
    await page.locator(tid('intake-missing')).waitFor({ state: 'visible' })
    assert.match(await page.locator(tid('intake-missing')).innerText(), /problem_area/)
    await page.locator(tid('intake-area')).fill('制冷')
    await page.locator(tid('intake-description')).fill('开机后不制冷，外机不转')
    await shot(page, 'orders-intake')
    await page.locator(tid('intake-save')).click()
    await page.locator(tid('page-order')).waitFor({ state: 'visible' })
    orderNumber = (await page.locator(tid('order-number')).innerText()).trim()
    assert.match(orderNumber, /^FW\d{11,}$/)
    orderId = Number(page.url().split('/').pop())
    assert.ok(orderId > 0)
    assert.equal((await page.locator(tid('order-state')).innerText()).trim(), '已创建')
    await page.locator(tid('order-timeline')).getByText('agent').first().waitFor({ state: 'visible' })
    // The order list finds it by number.
    await page.goto(BASE_URL + '/orders')
    await page.locator(tid('orders-q')).fill(orderNumber)
    await page.locator(tid('orders-go')).click()
    await page.locator(tid('orders-table')).getByRole('link', { name: orderNumber }).waitFor({ state: 'visible' })
    assert.deepEqual(page.errors, [])
  })
})

test('agent: the screen pop and the customer 360 list the open order with a link to it', T, async () => {
  assert.ok(orderId, 'the intake test created the order')
  await withPage(browser, 'orders-customer', {}, async (page) => {
    await login(page, { username: 'agent', password: PW })
    await page.goto(BASE_URL + '/customers/pop?phone=13912345678&auto=0')
    const popLink = page.locator(tid('pop-order-' + orderNumber))
    await popLink.waitFor({ state: 'visible' })
    await popLink.click()
    await page.locator(tid('page-order')).waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('order-number')).innerText()).trim(), orderNumber)
    const api = await apiAs(page, 'agent')
    const o = await api.get('/service-orders/' + orderId)
    await page.goto(BASE_URL + '/customers/' + o.customer_id)
    await page.locator(tid('c360-open-orders')).waitFor({ state: 'visible' })
    assert.ok(Number(await page.locator(tid('c360-open-orders')).innerText()) >= 1)
    await page.locator(tid('c360-tabs')).getByRole('tab', { name: /工单/ }).click()
    const link = page.locator(tid('c360-order-' + orderNumber))
    await link.waitFor({ state: 'visible' })
    await link.click()
    await page.waitForURL(new RegExp('/orders/' + orderId + '$'))
    assert.deepEqual(page.errors, [])
  })
})

test('dispatcher: audits the order and assigns it by hand', T, async () => {
  assert.ok(orderId, 'the intake test created the order')
  await withPage(browser, 'orders-dispatch', {}, async (page) => {
    await login(page, { username: 'dispatcher', password: PW })
    await page.goto(BASE_URL + '/orders/' + orderId)
    await page.locator(tid('act-audit')).click()
    await page.locator(tid('order-state')).getByText(/已审核|已派单/).waitFor({ state: 'visible' })
    // Manual assignment to the Xuhui provider (auto-dispatch may have been quicker: then it is a reassignment).
    const api = await apiAs(page, 'dispatcher')
    const options = await api.get('/service-orders-assignees')
    const xh = options.items.find((u) => u.code === 'SP-SH-XH')
    assert.ok(xh, JSON.stringify(options))
    const o = await api.post(`/service-orders/${orderId}/assign`, { provider_unit_id: xh.id, engineer_id: xh.engineers[0].id, reason: '辖区网点' })
    assert.equal(o.state, 'dispatched')
    await page.reload()
    await page.locator(tid('order-state')).getByText('已派单').waitFor({ state: 'visible' })
    assert.deepEqual(page.errors, [])
  })
})

test('provider at phone width: accepts, goes on site, records fault and charges, completes', T, async () => {
  assert.ok(orderId)
  await withPage(browser, 'orders-provider-phone', PHONE, async (page) => {
    await login(page, { username: 'provider1', password: PW })
    await page.goto(BASE_URL + '/orders')
    const card = page.locator(tid('order-card-' + orderId))
    await card.waitFor({ state: 'visible' })
    await card.click()
    await page.locator(tid('page-order')).waitFor({ state: 'visible' })
    // Nothing overflows the phone's width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`)
    await page.locator(tid('act-accept')).click()
    await page.locator(tid('order-state')).getByText('已接单').waitFor({ state: 'visible' })
    await page.locator(tid('act-arrive')).click()
    await page.locator(tid('order-state')).getByText('已上门').waitFor({ state: 'visible' })

    // Fault code from the dictionary: 空调 → 不制冷 → 冷媒泄漏; failed component C1.
    await page.locator(tid('comp-fault') + ' .el-cascader').click()
    await page.locator('.el-cascader-node', { hasText: '不制冷' }).click()
    await page.locator('.el-cascader-node', { hasText: '冷媒泄漏' }).click()
    await page.locator(tid('comp-position')).fill('C1')
    await page.locator(tid('comp-resolution')).fill('补焊铜管并加氟')
    await page.locator(tid('comp-save')).click()
    // Saving reloads the order (which redraws the charges editor) before "已保存" shows: lines added now stay.
    // (Not any success message: the arrival's "已完成" may still be on screen.)
    await page.locator('.el-message--success', { hasText: '已保存' }).first().waitFor({ state: 'visible' })

    // A priced service item; its price is the central one for grade A.
    await page.locator(tid('charge-add-service')).click()
    await page.locator(tid('charge-item-0')).click()
    await page.locator('.el-select-dropdown__item', { hasText: 'SI-AC-GAS' }).click()
    await page.locator(tid('charge-save')).click()
    await page.locator(tid('charge-total')).getByText('¥180.00').waitFor({ state: 'visible' })

    // The parts' sales contract header (配件销售单): cheque, delivered to the site; numbered, awaiting approval.
    await page.locator(tid('so-open')).click()
    await page.locator(tid('so-payment_method')).click()
    await page.locator(tid('so-payment_method-cheque')).click()
    await page.locator(tid('so-delivery_method')).click()
    await page.locator(tid('so-delivery_method-door_delivery')).click()
    await page.locator(tid('so-save')).click()
    await page.locator(tid('so-view-number')).getByText(/^CTRN\d{11,}$/).waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('so-view-payment_method')).innerText()).trim(), '支票')
    assert.equal((await page.locator(tid('so-view-delivery_method')).innerText()).trim(), '上门送货')
    assert.equal((await page.locator(tid('so-approval')).innerText()).trim(), '待审核')
    await shot(page, 'orders-provider-phone')

    await page.locator(tid('act-complete')).click()
    await page.locator(tid('order-state')).getByText('已完工').waitFor({ state: 'visible' })
    await page.locator(tid('order-timeline')).getByText('provider1').first().waitFor({ state: 'visible' })
    assert.deepEqual(page.errors, [])
  })
})

test('agent: revisit with satisfaction; the report prints the seed 001 blocks', T, async () => {
  assert.ok(orderId)
  await withPage(browser, 'orders-revisit', {}, async (page) => {
    await login(page, { username: 'agent', password: PW })
    await page.goto(BASE_URL + '/orders/' + orderId)
    await page.locator(tid('sat-score') + ' input').fill('45')
    await page.locator(tid('sat-max') + ' input').fill('60')
    await page.locator(tid('sat-save')).click()
    await page.locator(tid('order-satisfaction')).getByText('75%').waitFor({ state: 'visible' })
    await page.locator(tid('act-revisit')).click()
    await page.locator(tid('order-state')).getByText('已回访').waitFor({ state: 'visible' })

    // The demo's seed 001 order: 1,322.45 − 0.45 = 1,322.00 and 45/60 = 75 %.
    const api = await apiAs(page, 'agent')
    const list = await api.get('/service-orders?q=FW20050222001')
    assert.equal(list.items.length, 1)
    await page.goto(BASE_URL + `/orders/${list.items[0].id}/report`)
    await page.locator(tid('page-order-report')).waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('report-subtotal')).innerText()).trim(), '¥1,322.45')
    assert.equal((await page.locator(tid('report-rounding')).innerText()).trim(), '¥-0.45')
    assert.equal((await page.locator(tid('report-total')).innerText()).trim(), '¥1,322.00')
    assert.equal((await page.locator(tid('report-percent')).innerText()).trim(), '75%')
    for (const block of ['客户信息', '客户资产', '问题范围', '服务合约', '服务便笺', '任务安排', '维护处理', '客户满意度', '零部件及工时'])
      await page.getByText(block, { exact: false }).first().waitFor({ state: 'visible' })
    await page.getByText('上海万力机械有限公司').first().waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('report-state')).innerText()).trim(), '已关闭')
    // The asset block's 资产# and 运行日期, and the parts' sales contract header, as in the seed.
    assert.equal((await page.locator(tid('report-asset-tag')).innerText()).trim(), 'WL006')
    assert.equal((await page.locator(tid('report-commissioned')).innerText()).trim(), '2004-06-02')
    assert.equal((await page.locator(tid('report-so-number')).innerText()).trim(), 'CTRNBRG0020050223001')
    assert.equal((await page.locator(tid('report-so-approval')).innerText()).trim(), '已核准')
    assert.equal((await page.locator(tid('report-so-payment')).innerText()).trim(), '支票')
    assert.equal((await page.locator(tid('report-so-delivery')).innerText()).trim(), '上门送货')
    assert.equal((await page.locator(tid('report-so-ship')).innerText()).trim(), '2005-02-23')
    assert.equal((await page.locator(tid('report-so-team')).innerText()).trim(), 'dm')
    for (const label of ['签定日期', '销售方式', '售后零部件', '执行中'])
      await page.locator(tid('report-sales-order')).getByText(label, { exact: true }).first().waitFor({ state: 'visible' })
    // The PDF of the same report, linked from the page.
    const href = await page.locator(tid('report-pdf')).getAttribute('href')
    assert.equal(href, `/api/v1/service-orders/${list.items[0].id}/report.pdf`)
    const pdf = await page.context().request.get(BASE_URL + href)
    assert.equal(pdf.status(), 200)
    assert.equal(pdf.headers()['content-type'], 'application/pdf')
    assert.equal((await pdf.body()).subarray(0, 8).toString('latin1'), '%PDF-1.4')
    await shot(page, 'orders-report')
    assert.deepEqual(page.errors, [])
  })
})

test('admin: adds a "parts waiting" state in the workflow editor; it is saved as a new version', T, async () => {
  await withPage(browser, 'orders-workflow-editor', {}, async (page) => {
    await login(page, { username: 'admin', password: PW })
    const api = await apiAs(page, 'admin')
    const before = await api.get('/workflows/repair')
    await page.goto(BASE_URL + '/workflows')
    await page.locator(tid('page-workflows')).waitFor({ state: 'visible' })
    await page.locator(tid('wf-repair')).click()
    await page.locator(tid('wf-state-code-0')).waitFor({ state: 'visible' })
    assert.equal(await page.locator(tid('wf-state-code-0')).inputValue(), before.states[0].code)
    // A state: 待料 (parts_waiting), entered from on site and left when the parts arrive.
    const s = before.states.length
    await page.locator(tid('wf-add-state')).click()
    await page.locator(tid('wf-state-code-' + s)).fill('parts_waiting')
    await page.locator(tid('wf-state-name-' + s)).fill('待料')
    await page.locator(tid('wf-state-en-' + s)).fill('Parts waiting')
    const pick = async (sel, option) => {
      await page.locator(tid(sel)).click()
      // Filter first: the list is longer than the dropdown, and a long list scrolls while it animates.
      await page.keyboard.type(option)
      // Scope to this select's own list (its input's aria-controls): the previous select's dropdown may
      // still be fading out and shows the same options.
      const list = await page.locator(tid(sel)).locator('input').first().getAttribute('aria-controls')
      await page.locator(`[id="${list}"] .el-select-dropdown__item`, { hasText: new RegExp('^' + option + '$') }).click()
      await page.keyboard.press('Escape')
    }
    let n = before.transitions.length
    for (const [action, name, from, to] of [['wait_parts', '待料', 'on_site', 'parts_waiting'], ['parts_arrived', '到料', 'parts_waiting', 'on_site']]) {
      await page.locator(tid('wf-add-transition')).click()
      await page.locator(tid('wf-tr-action-' + n)).fill(action)
      await page.locator(tid('wf-tr-name-' + n)).fill(name)
      await pick('wf-tr-from-' + n, from)
      await pick('wf-tr-to-' + n, to)
      n++
    }
    await page.locator(tid('wf-save')).click()
    await page.locator('.el-message--success').first().waitFor({ state: 'visible' })
    await page.locator(tid('wf-repair')).getByText(`v${before.version + 1}`).waitFor({ state: 'visible' })
    const after = await api.get('/workflows/repair')
    assert.equal(after.version, before.version + 1)
    assert.ok(after.states.some((x) => x.code === 'parts_waiting' && x.name === '待料'), JSON.stringify(after.states))
    const wait = after.transitions.find((x) => x.action === 'wait_parts')
    assert.deepEqual([wait.from, wait.to, wait.permission], [['on_site'], 'parts_waiting', 'order.work'])
    assert.deepEqual(page.errors, [])
  })
})
