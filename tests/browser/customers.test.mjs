// Customers in the browser: the call-centre agent searches a caller's number
// (written the way the phone shows it), opens the customer 360 page and its
// tabs; the screen pop URL lands straight on the 360 page.
//   SHOUHOU_URL=http://127.0.0.1:8080 node --test tests/browser/customers.test.mjs
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

const T = { timeout: 120_000 }
const AGENT = { username: 'agent', password: process.env.SHOUHOU_ADMIN_PASSWORD || 'shouhou' }

test('agent: search a phone number and open the customer 360 page', T, async () => {
  await withPage(browser, 'customers-search', {}, async (page) => {
    await login(page, AGENT)
    await page.locator(tid('menu-customers')).click()
    await page.locator(tid('page-customers')).waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('menu-customers')).innerText()).trim(), '客户')

    // The demo customer of seed 003, by its switchboard number written with spaces and brackets.
    await page.locator(tid('cust-search')).fill('(021) 5030 1234')
    await page.locator(tid('cust-search-go')).click()
    const link = page.locator(tid('cust-table')).getByRole('link', { name: '上海万力机械有限公司' })
    await link.waitFor({ state: 'visible' })
    assert.equal(await page.locator(tid('cust-table') + ' tbody tr').count(), 1)
    await shot(page, 'customers-search')

    await link.click()
    await page.locator(tid('page-customer-360')).waitFor({ state: 'visible' })
    // The page shows before its data arrives: wait for the name, then read the rest.
    await page.locator(tid('c360-name')).getByText('上海万力机械有限公司').waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('c360-tier')).innerText()).trim(), 'VIP 客户')
    // Tabs: 资料 / 联系人 / 地址 / 资产 / 合约 / 工单 / 历史
    const tabs = await page.locator(tid('c360-tabs') + ' .el-tabs__item').allInnerTexts()
    for (const name of ['资料', '联系人', '地址', '资产', '合约', '工单', '历史'])
      assert.ok(tabs.some((x) => x.includes(name)), `tab ${name} in ${tabs}`)
    await page.locator(tid('c360-tabs') + ' .el-tabs__item', { hasText: '联系人' }).click()
    await page.locator(tid('c360-contacts')).getByText('张云峰').waitFor({ state: 'visible' })
    await page.locator(tid('c360-tabs') + ' .el-tabs__item', { hasText: '历史' }).click()
    await page.locator(tid('c360-history')).getByText('采购').first().waitFor({ state: 'visible' })
    await shot(page, 'customer-360')
    assert.deepEqual(page.errors, [])
  })
})

test('screen pop: a caller number opens the customer directly', T, async () => {
  await withPage(browser, 'customers-pop', {}, async (page) => {
    await login(page, AGENT)
    // The contact's mobile, as a CTI system would pass it.
    await page.goto(BASE_URL + '/customers/pop?phone=' + encodeURIComponent('+86 139 0188 8888'))
    await page.locator(tid('page-customer-360')).waitFor({ state: 'visible' })
    // The page shows before its data arrives: wait for the name, then read the rest.
    await page.locator(tid('c360-name')).getByText('上海万力机械有限公司').waitFor({ state: 'visible' })
    // An unknown number stays on the pop page and says so.
    await page.goto(BASE_URL + '/customers/pop?phone=13700000001')
    await page.locator(tid('page-customer-pop')).getByText('未找到号码').waitFor({ state: 'visible' })
    assert.deepEqual(page.errors, [])
  })
})

test('provider: the menu shows customers, but not another provider\'s', T, async () => {
  await withPage(browser, 'customers-provider', {}, async (page) => {
    await login(page, { username: 'provider1', password: AGENT.password })
    await page.goto(BASE_URL + '/customers?q=' + encodeURIComponent('13800138000'))  // 李娜, provider2's customer
    await page.locator(tid('page-customers')).waitFor({ state: 'visible' })
    await page.locator(tid('cust-table')).getByText('暂无数据').waitFor({ state: 'visible' })
    assert.deepEqual(page.errors, [])
  })
})
