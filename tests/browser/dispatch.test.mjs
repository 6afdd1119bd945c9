// Dispatch board in the browser: the dispatcher's board shows an engineer's
// status change, made from the engineer's phone in a second browser session,
// live over the WebSocket, without reloading.
//   SHOUHOU_URL=http://127.0.0.1:8080 node --test tests/browser/dispatch.test.mjs
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, launch, newPage, tid, login, shot } from './lib.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  if (browser) await browser.close()
})

const T = { timeout: 120_000 }
const PW = process.env.SHOUHOU_ADMIN_PASSWORD || 'shouhou'

test('board shows an engineer status change from another session without reload', T, async () => {
  const board = await newPage(browser)
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, mobile: true })
  try {
    const d = board.page
    await login(d, { username: 'dispatcher', password: PW })
    await d.locator(tid('menu-dispatch-board')).click()
    await d.locator(tid('page-dispatch-board')).waitFor({ state: 'visible' })
    await d.locator(tid('board-live') + '[data-live="1"]').waitFor({ state: 'visible' })
    const row = d.locator(tid('board-engineers') + ' tbody tr', { hasText: '周涛' })
    const tag = row.locator('[data-status]')
    await tag.waitFor({ state: 'visible' })
    const before = await tag.getAttribute('data-status')
    const target = before === 'on_site' ? 'travelling' : 'on_site'
    const label = { on_site: '现场', travelling: '在途' }[target]
    // Marks this page: a reload would lose the mark.
    await d.evaluate(() => { window.__noReload = 42 })
    await shot(d, 'dispatch-board-before')

    // The engineer changes status on the phone.
    const e = phone.page
    await login(e, { username: 'engineer2', password: PW })
    await e.goto(BASE_URL + '/engineer/status')
    await e.locator(tid('page-my-status')).waitFor({ state: 'visible' })
    await e.locator(tid('status-' + target)).click()
    await e.locator(tid('my-status') + `[data-status="${target}"]`).waitFor({ state: 'visible' })
    await shot(e, 'engineer-status-phone')

    // The board follows, live.
    await row.locator(`[data-status="${target}"]`).waitFor({ state: 'visible', timeout: 10_000 })
    assert.equal((await tag.innerText()).trim(), label)
    assert.equal(await d.evaluate(() => window.__noReload), 42, 'the board page was not reloaded')
    await shot(d, 'dispatch-board-after')
    // Filter by region at province level: Shandong keeps the Jinan engineer, drops the Beijing one.
    await d.locator(tid('board-engineers') + ' tbody tr', { hasText: '吴磊' }).waitFor({ state: 'visible' })
    await d.locator(tid('board-area') + ' input').click()
    await d.locator('.el-cascader-node', { hasText: '山东省' }).locator('.el-radio').click()
    await d.locator(tid('board-engineers') + ' tbody tr', { hasText: '吴磊' }).waitFor({ state: 'detached', timeout: 10_000 })
    await row.waitFor({ state: 'visible' })
    assert.deepEqual(d.errors, [])
    assert.deepEqual(e.errors, [])
  } catch (err) {
    await board.page.screenshot({ path: '/tmp/shouhou-fail-dispatch-board.png', fullPage: true }).catch(() => {})
    await phone.page.screenshot({ path: '/tmp/shouhou-fail-dispatch-phone.png', fullPage: true }).catch(() => {})
    throw err
  } finally {
    await board.context.close()
    await phone.context.close()
  }
})

test('board lists an order no outlet may take, with the reason, and dispatches it by hand', T, async () => {
  const { context, page } = await newPage(browser)
  try {
    await login(page, { username: 'admin', password: PW })
    // A solar water heater installation in Beijing: no Beijing outlet is authorised for solar heaters.
    const made = await page.evaluate(async () => {
      const csrf = (await (await fetch('/api/v1/me')).json()).csrf_token
      const h = { 'content-type': 'application/json', 'x-csrf-token': csrf }
      const models = (await (await fetch('/api/v1/models?limit=200')).json()).items
      const swh = models.find((m) => m.product_line_code === 'SWH') || models[0]
      const cust = await (await fetch('/api/v1/customers', { method: 'POST', headers: h,
        body: JSON.stringify({ name: '看板测试客户' + Date.now(), kind: 'individual', type: 'direct' }) })).json()
      const o = await (await fetch('/api/v1/service-orders', { method: 'POST', headers: h, body: JSON.stringify({
        type: 'installation', customer_id: cust.id, model_id: swh.id, contact: { name: '王先生', phone: '13900001111' },
        site: { county_code: '110105', address: '朝阳路1号' } }) })).json()
      await fetch(`/api/v1/service-orders/${o.id}/actions/audit`, { method: 'POST', headers: h, body: '{}' })
      return o
    })
    assert.ok(made.id, JSON.stringify(made))
    await page.goto(BASE_URL + '/dispatch/board')
    await page.locator(tid('page-dispatch-board')).waitFor({ state: 'visible' })
    const row = page.locator(tid('board-unassigned') + ' tbody tr', { hasText: made.number })
    await row.getByText('没有获得太阳能热水器授权的网点').waitFor({ state: 'visible', timeout: 15_000 })
    await page.locator(tid('dispatch-' + made.id)).click()
    await page.locator(tid('cand-table') + ' tbody tr').first().waitFor({ state: 'visible' })
    const bj = page.locator(tid('cand-table') + ' tbody tr', { hasText: '北京朝阳售后服务网点' })
    await bj.getByText('未授权产品线').waitFor({ state: 'visible' })
    await shot(page, 'dispatch-candidates')
    await bj.locator('button').click()
    await row.waitFor({ state: 'detached', timeout: 10_000 })
    // The order shows how it was dispatched: by hand, to the Beijing outlet, past the failed authorisation.
    await page.goto(BASE_URL + '/orders/' + made.id)
    const card = page.locator(tid('order-decision') + '[data-mode="manual"]')
    await card.waitFor({ state: 'visible' })
    await card.locator(tid('decision-candidates')).getByText('北京朝阳售后服务网点').waitFor({ state: 'visible' })
    await card.getByText('未授权产品线').waitFor({ state: 'visible' })
    await shot(page, 'order-dispatch-decision')
    assert.deepEqual(page.errors, [])
  } finally {
    await context.close()
  }
})
