// Install base, warranty, contracts and the product catalogue in the browser:
// the call-centre agent goes from the customer 360 page to an asset and reads
// its warranty status (unit and key parts, deciding rules, covering
// contract, history); an admin creates a service item (服务料号) with prices
// per provider grade and adds a key part (位号) to a model; the phone-width
// asset page stays usable.
//   SHOUHOU_URL=http://127.0.0.1:8080 node --test tests/browser/assets.test.mjs
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, launch, withPage, tid, login, shot, ADMIN } from './lib.mjs'

let browser
before(async () => {
  browser = await launch()
})
after(async () => {
  if (browser) await browser.close()
})

const T = { timeout: 120_000 }
const AGENT = { username: 'agent', password: process.env.SHOUHOU_ADMIN_PASSWORD || 'shouhou' }
const UPS = 'UPS10K-2311-000009'  // demo: 上海万力's UPS, sold 2024-01-15, policy UPS整机 (24 months, 电池 12, 功率模块 36)

async function openUpsFrom360(page) {
  await page.goto(BASE_URL + '/customers?q=' + encodeURIComponent('021-5030-1234'))
  await page.locator(tid('cust-table')).getByRole('link', { name: '上海万力机械有限公司' }).click()
  await page.locator(tid('page-customer-360')).waitFor({ state: 'visible' })
  await page.locator(tid('c360-tabs') + ' .el-tabs__item', { hasText: '资产' }).click()
  await page.locator(tid('c360-asset-' + UPS)).click()
  await page.locator(tid('page-asset')).waitFor({ state: 'visible' })
  // The page shows before its data: wait for the asset itself (a loaded machine may take a while).
  await page.waitForFunction(([s, v]) => document.querySelector(s)?.textContent.trim() === v, [tid('asset-serial'), UPS])
}

test('agent: from the customer 360 page to an asset and its warranty status', T, async () => {
  await withPage(browser, 'assets-warranty', {}, async (page) => {
    await login(page, AGENT)
    await openUpsFrom360(page)
    assert.equal((await page.locator(tid('asset-serial')).innerText()).trim(), UPS)
    assert.equal((await page.locator(tid('asset-status')).innerText()).trim(), '已安装')
    assert.equal((await page.locator(tid('asset-owner')).innerText()).trim(), '上海万力机械有限公司')

    // Pick a day in the contract period but after the policy ran out: the contract decides.
    const status = page.locator(tid('warranty-status'))
    await status.waitFor({ state: 'visible' })
    await setDate(page, '2026-06-01')
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.includes('合约保障中'), tid('warranty-status'))
    assert.equal((await page.locator(tid('warranty-end-电池')).innerText()).trim(), '2025-01-14')
    assert.equal((await page.locator(tid('warranty-end-功率模块')).innerText()).trim(), '2027-01-14')
    assert.match(await page.locator(tid('warranty-contract')).innerText(), /FWHY-2025-0001/)
    assert.match(await page.locator(tid('warranty-response')).innerText(), /7x24.*2 小时响应.*4 小时上门/)
    assert.match(await page.locator(tid('warranty-why')).innerText(), /FWHY-2025-0001.*优先于三包政策/)
    await shot(page, 'asset-warranty-contract')

    // Before the contract started, the warranty policy decides (unit in warranty until 2026-01-14).
    await setDate(page, '2024-06-01')
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim() === '保内', tid('warranty-status'))
    assert.match(await page.locator(tid('warranty-contract')).innerText(), /无合约/)
    assert.match(await page.locator(tid('warranty-why')).innerText(), /整机 24 个月，自销售日期 2024-01-15起/)

    // The full history: registered, sold, installed.
    const history = await page.locator(tid('asset-history')).innerText()
    for (const kind of ['登记', '销售', '安装']) assert.ok(history.includes(kind), `${kind} in history`)

    // The covering contract opens with its terms.
    await page.locator(tid('asset-contracts')).getByRole('link', { name: 'FWHY-2025-0001' }).click()
    await page.locator(tid('page-contract')).waitFor({ state: 'visible' })
    assert.match(await page.locator(tid('contract-response')).innerText(), /7x24/)
    assert.match(await page.locator(tid('contract-discounts')).innerText(), /备件 10%.*工时 20%/)
    assert.ok((await page.locator(tid('contract-assets-table')).innerText()).includes(UPS))
    assert.deepEqual(page.errors, [])
  })
})

async function setDate(page, ymd) {
  const input = page.locator(tid('warranty-date') + ' input')
  await input.click()
  await input.fill(ymd)
  await input.press('Enter')
}

test('agent on a phone: the asset page is usable at phone width', T, async () => {
  await withPage(browser, 'assets-phone', { viewport: { width: 390, height: 844 }, mobile: true }, async (page) => {
    await login(page, AGENT)
    await openUpsFrom360(page)
    await page.locator(tid('warranty-status')).waitFor({ state: 'visible' })
    // Nothing wider than the screen except inside scrollable tables.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `page overflows by ${overflow}px`)
    await shot(page, 'asset-phone')
    assert.deepEqual(page.errors, [])
  })
})

test('admin: creates a service item with grade prices and a key part on a model', T, async () => {
  await withPage(browser, 'assets-admin', {}, async (page) => {
    await login(page, ADMIN)
    await page.locator(tid('menu-service-items')).click()
    await page.locator(tid('page-service-items')).waitFor({ state: 'visible' })
    const code = 'SVC' + Date.now().toString(36).toUpperCase()
    await page.locator(tid('item-create')).click()
    const dlg = page.locator(tid('item-dialog'))
    await dlg.locator(tid('item-code')).fill(code)
    await dlg.locator(tid('item-name')).fill('更换压缩机（含冷媒）')
    await dlg.locator(tid('item-unit')).fill('次')
    await dlg.locator(tid('price-yuan-0') + ' input').fill('320.50')
    await dlg.locator(tid('price-add')).click()
    await dlg.locator(tid('price-yuan-1') + ' input').fill('280')
    await dlg.locator(tid('item-save')).click()
    await page.locator(tid('item-search')).fill(code)
    await page.locator(tid('item-search-go')).click()
    const priceA = page.locator(tid(`item-price-${code}-A`))
    await priceA.waitFor({ state: 'visible' })
    assert.match(await priceA.innerText(), /A\s*¥320\.50/)
    assert.match(await page.locator(tid(`item-price-${code}-B`)).innerText(), /B\s*¥280\.00/)

    // The price list answers in fen through the API as well.
    const item = await page.evaluate(async (c) => (await (await fetch('/api/v1/service-items?q=' + c)).json()).items[0], code)
    assert.deepEqual(item.prices, [{ grade: 'A', price_fen: 32050 }, { grade: 'B', price_fen: 28000 }])

    // A bad price table names the field: the same grade twice.
    await page.locator(tid('item-prices-' + code)).click()
    const pd = page.locator(tid('prices-dialog'))
    await pd.locator(tid('price-grade-1')).fill('A')
    await pd.locator(tid('prices-save')).click()
    await pd.getByText('grade A is listed twice').waitFor({ state: 'visible' })
    await pd.getByRole('button', { name: '取消' }).click()

    // A key part with its position number on a model.
    await page.locator(tid('menu-products')).click()
    await page.locator(tid('page-products')).waitFor({ state: 'visible' })
    await page.locator(tid('model-table') + ' a').first().click()
    await page.locator(tid('page-model')).waitFor({ state: 'visible' })
    const pos = 'T' + (Date.now() % 100000)
    await page.locator(tid('comp-create')).click()
    const cd = page.locator(tid('comp-dialog'))
    await cd.locator(tid('comp-position')).fill(pos)
    await cd.locator(tid('comp-name')).fill('温度传感器')
    await cd.locator(tid('comp-key')).click()
    await cd.locator(tid('comp-save')).click()
    // Key part without a category: refused, naming the field.
    await cd.getByText('key_part_category is required').waitFor({ state: 'visible' })
    await cd.locator(tid('comp-category')).fill('传感器')
    await cd.locator(tid('comp-save')).click()
    const row = page.locator(tid('comp-table') + ' tr', { hasText: pos })
    await row.waitFor({ state: 'visible' })
    assert.match(await row.innerText(), /温度传感器[\s\S]*传感器/)
    await shot(page, 'model-components')
    assert.deepEqual(page.errors, [])
  })
})

test('admin: registers an asset, then its sale and its installation', T, async () => {
  await withPage(browser, 'assets-register', {}, async (page) => {
    await login(page, ADMIN)
    await page.goto(BASE_URL + '/install-base')
    await page.locator(tid('page-assets')).waitFor({ state: 'visible' })
    const serial = 'REG-' + Date.now().toString(36).toUpperCase()
    await page.locator(tid('asset-create')).click()
    const form = page.locator(tid('asset-form'))
    await form.locator(tid('asset-form-serial')).fill(serial)
    // Without a model: refused, naming the field, nothing stored.
    await form.locator(tid('asset-form-save')).click()
    await form.getByText('model_id').first().waitFor({ state: 'visible' })
    await form.locator(tid('asset-form-model')).click()
    await page.locator(tid('asset-form-model-KFR-35GW/BP3')).click()
    await form.locator(tid('asset-form-save')).click()
    await page.locator(tid('page-asset')).waitFor({ state: 'visible' })
    await page.waitForFunction(([s, v]) => document.querySelector(s)?.textContent.trim() === v, [tid('asset-serial'), serial])
    assert.equal((await page.locator(tid('asset-status')).innerText()).trim(), '在库')

    // The sale: a bad amount is caught in the form, a good one is stored in fen.
    await page.locator(tid('asset-record-sale')).click()
    const sale = page.locator(tid('asset-sale-form'))
    await sale.locator(tid('asset-sale-invoice')).fill('FP-' + serial)
    await sale.locator(tid('asset-sale-amount')).fill('12.345')
    await sale.locator(tid('asset-sale-save')).click()
    await sale.getByText('金额须为元').waitFor({ state: 'visible' })
    await sale.locator(tid('asset-sale-amount')).fill('3,999.50')
    await sale.locator(tid('asset-sale-save')).click()
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim() === '已售', tid('asset-status'))
    assert.equal(await page.locator(tid('asset-record-sale')).count(), 0)

    // The installation with a part fitted.
    await page.locator(tid('asset-record-installation')).click()
    const inst = page.locator(tid('asset-installation-form'))
    await inst.locator(tid('asset-install-address')).fill('上海市徐汇区漕溪北路 88 号')
    await inst.locator(tid('asset-install-add-part')).click()
    await inst.locator(tid('asset-install-part-name-0')).fill('铜管加长 2 米')
    await inst.locator(tid('asset-installation-save')).click()
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim() === '已安装', tid('asset-status'))
    const history = page.locator(tid('asset-history'))
    await history.getByText('安装').first().waitFor({ state: 'visible' })
    for (const kind of ['登记', '销售', '安装']) assert.ok((await history.innerText()).includes(kind), `${kind} in history`)
    // Sold and installed today: in warranty.
    await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim() === '保内', tid('warranty-status'))

    const a = await page.evaluate(async (s) => (await (await fetch('/api/v1/assets?serial=' + s)).json()).items[0], serial)
    assert.equal(a.sale.amount_fen, 399950)
    assert.equal(a.sale.invoice_no, 'FP-' + serial)
    assert.equal(a.installation.address, '上海市徐汇区漕溪北路 88 号')
    assert.equal(a.installation.parts[0].name, '铜管加长 2 米')

    // The customer's own number (资产#) and the commissioning date (运行日期):
    // not before the installation (today), the field named; then found by the tag.
    await page.locator(tid('asset-edit-identity')).click()
    const idf = page.locator(tid('asset-identity-form'))
    await idf.waitFor({ state: 'visible' })
    await idf.locator(tid('asset-identity-tag')).fill('t-' + serial.toLowerCase())
    const day = idf.locator(tid('asset-identity-commissioned') + ' input')
    await day.fill('2000-01-02')
    await day.press('Enter')
    await idf.locator(tid('asset-identity-save')).click()
    await idf.getByText('commissioned_on').first().waitFor({ state: 'visible' })
    const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
    await day.fill(today)
    await day.press('Enter')
    await idf.locator(tid('asset-identity-save')).click()
    await page.waitForFunction(([s, v]) => document.querySelector(s)?.textContent.trim() === v, [tid('asset-tag'), 'T-' + serial])
    assert.equal((await page.locator(tid('asset-commissioned')).innerText()).trim(), today)
    await page.locator(tid('asset-history')).getByText('asset_tag').first().waitFor({ state: 'visible' })
    await page.goto(BASE_URL + '/install-base')
    await page.locator(tid('asset-search')).fill('T-' + serial)
    await page.locator(tid('asset-search-go')).click()
    await page.locator(tid('asset-open-' + serial)).waitFor({ state: 'visible' })
    assert.deepEqual(page.errors, [])
  })
})
