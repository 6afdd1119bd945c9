// Claim audit queue and SLA settings in the browser: a repair claim on a
// serial the install base does not know is flagged by the automatic audit;
// the dispatcher sees it in the queue with its reason and approves it; the
// administrator sees the SLA policies and the public-holiday calendar.
//   SHOUHOU_URL=http://127.0.0.1:8080 node --test tests/browser/claims.test.mjs
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, ADMIN, launch, withPage, tid, login, shot } from './lib.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  if (browser) await browser.close()
})

const T = { timeout: 120_000 }
const PW = process.env.SHOUHOU_ADMIN_PASSWORD || 'shouhou'

// A JSON API session outside the browser (cookie + CSRF token).
async function apiSession(username) {
  const r = await fetch(BASE_URL + '/api/v1/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PW }),
  })
  assert.equal(r.status, 200)
  const cookie = r.headers.get('set-cookie').split(';')[0]
  const { csrf_token } = await r.json()
  return async (method, path, body) => {
    const res = await fetch(BASE_URL + '/api/v1' + path, {
      method,
      headers: { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    })
    return { status: res.status, body: await res.json() }
  }
}

test('dispatcher approves a flagged claim from the audit queue', T, async () => {
  const agent = await apiSession('agent')
  const pop = await agent('GET', '/cti/lookup?phone=13912345678')
  const customer = pop.body.matches[0].customer.id
  const serial = 'FAKE-' + Math.random().toString(36).slice(2, 8).toUpperCase()
  const created = await agent('POST', '/service-orders', {
    type: 'repair', customer_id: customer, contact: { name: '王建国', phone: '139 1234 5678' },
    site: { county_code: '310104', address: '漕溪北路88弄5号1201' }, serial, problem_area: '制冷', problem_subarea: '外机',
    reproducibility: 'always', severity: 'serious', priority: 'high', description: '不制冷', summary: '不制冷',
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const id = created.body.id
  assert.equal((await agent('GET', '/service-orders/' + id)).body.claim_status, 'flagged')

  await withPage(browser, 'claims-queue', {}, async (page) => {
    await login(page, { username: 'dispatcher', password: PW })
    await page.locator(tid('menu-claims')).click()
    await page.locator(tid('page-claims')).waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('menu-claims')).innerText()).trim(), '三包鉴定')
    const reasons = page.locator(tid('claim-reasons-' + id))
    await reasons.waitFor({ state: 'visible' })
    const text = await reasons.innerText()
    assert.match(text, /serial_unknown/)
    assert.ok(text.includes(serial) && text.includes('不在安装点档案中'), text)
    await shot(page, 'claims-queue')

    await page.locator(tid('claim-approve-' + id)).click()
    await page.locator(tid('claim-dialog')).waitFor({ state: 'visible' })
    await page.locator(tid('claim-submit')).click()  // without a comment: refused in the form
    await page.getByText('请填写审核意见').waitFor({ state: 'visible' })
    await page.locator(tid('claim-comment')).fill('回访核实：赠品机，条码补录')
    await page.locator(tid('claim-submit')).click()
    await reasons.waitFor({ state: 'detached' })
    assert.deepEqual(page.errors, [])
  })
  const after = (await agent('GET', '/service-orders/' + id)).body
  assert.equal(after.claim_status, 'approved')
  assert.equal(after.state, 'audited')
  const claims = (await agent('GET', '/claims/' + id)).body
  assert.equal(claims.items.at(-1).comment, '回访核实：赠品机，条码补录')
})

test('admin sees SLA policies, calendars and the public holidays', T, async () => {
  await withPage(browser, 'sla-admin', {}, async (page) => {
    await login(page, ADMIN)
    await page.goto(BASE_URL + '/sla')
    await page.locator(tid('page-sla')).waitFor({ state: 'visible' })
    await page.locator(tid('sla-policies')).getByText('默认：2小时答复，4小时解决').waitFor({ state: 'visible' })
    await page.locator(tid('sla-cal-8x5')).waitFor({ state: 'visible' })
    await page.locator(tid('sla-holiday-year')).click()
    await page.locator('.el-select-dropdown__item').filter({ hasText: /^2026$/ }).click()
    await page.locator(tid('sla-holidays')).getByText('国庆节').first().waitFor({ state: 'visible' })
    await shot(page, 'sla-admin')
    assert.deepEqual(page.errors, [])
  })
})
