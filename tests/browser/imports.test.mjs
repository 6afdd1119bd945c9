// Bulk import in the browser: an admin uploads an install-base CSV with good
// and bad rows, follows the progress to the end, reads the counts and each
// bad row (row number, column, reason in Chinese); uploading the same file again
// changes nothing (every good row "unchanged"); both runs are in the list of
// past imports. The English UI shows the same page in English.
//   SHOUHOU_URL=http://127.0.0.1:8080 node --test tests/browser/imports.test.mjs
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
// Unique per run, so the test also passes against a database it ran on before.
const RUN = Date.now().toString(36).toUpperCase()
const PHONE = '139' + String(Date.now() % 100000000).padStart(8, '0')
const SERIALS = [`BT${RUN}-001`, `BT${RUN}-002`, `BT${RUN}-006`]

function csv() {
  const rows = [
    'serial,model_code,maker,model_text,sale_date,customer_name,customer_phone,install_date,installer,install_address',
    `${SERIALS[0]},KFR-35GW/BP3,,,2024-03-01,导入测试 张三,${PHONE},2024-03-05,SP-SH-XH,上海市徐汇区漕溪北路 1 号`,
    `${SERIALS[1]},UPS-C10K,,,2024-04-02,导入测试 张三,${PHONE},,,`,
    `BT${RUN}-004,NOPE-MODEL,,,2024-04-02,,,,,`, // row 4: unknown model
    `BT${RUN}-005,SWH-Q18,,,2024-13-40,,,,,`, // row 5: no such date
    `${SERIALS[2]},,大金,FXYD-25,,,,,,`, // a third-party asset
  ]
  return Buffer.from('\ufeff' + rows.join('\r\n') + '\r\n', 'utf8')
}

async function uploadAndWait(page, name) {
  await page.locator(tid('import-kind-install_base')).click()
  await page.locator(tid('import-file')).setInputFiles({ name, mimeType: 'text/csv', buffer: csv() })
  assert.match(await page.locator(tid('import-filename')).innerText(), new RegExp(name))
  await page.locator(tid('import-start')).click()
  await page.locator(tid('import-current')).waitFor({ state: 'visible' })
  // The progress bar runs to 100% and the job reports done.
  await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim() === '已完成', tid('import-status'), { timeout: 60_000 })
  assert.match(await page.locator(tid('import-progress')).innerText(), /100%/)
  assert.match(await page.locator(tid('import-rows')).innerText(), /5 \/ 5/)
  await page.locator(tid('import-errors') + ' .el-table__row').nth(1).waitFor({ state: 'visible' })
}

async function counts(page) {
  const out = {}
  for (const k of ['created', 'updated', 'unchanged', 'bad', 'skipped'])
    out[k] = Number((await page.locator(tid('import-count-' + k) + ' .num').innerText()).trim())
  return out
}

async function badRows(page) {
  const rows = page.locator(tid('import-errors') + ' .el-table__body .el-table__row')
  const out = []
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = await rows.nth(i).locator('td').allInnerTexts()
    out.push(cells.map((c) => c.trim()))
  }
  return out
}

test('admin: import install base with good and bad rows, then the same file again', T, async () => {
  await withPage(browser, 'imports', {}, async (page) => {
    await login(page, ADMIN)
    await page.locator(tid('menu-imports')).click()
    await page.locator(tid('page-imports')).waitFor({ state: 'visible' })

    // The template for the chosen kind downloads as a CSV header.
    const tpl = await page.request.get(BASE_URL + (await page.locator(tid('import-template')).getAttribute('href')))
    assert.equal(tpl.status(), 200)
    assert.match(await tpl.text(), /^\ufeff?serial,model_code,/)

    await uploadAndWait(page, `ib-${RUN}.csv`)
    assert.deepEqual(await counts(page), { created: 3, updated: 0, unchanged: 0, bad: 2, skipped: 0 })
    const bad = await badRows(page)
    assert.equal(bad.length, 2)
    assert.deepEqual(bad.map((r) => r.slice(0, 2)), [['4', 'model_code'], ['5', 'sale_date']])
    // Reasons in the UI language (zh-CN by default), from the API's codes.
    assert.match(bad[0][2], /型号“NOPE-MODEL”不是已知型号/)
    assert.match(bad[1][2], /销售日期“2024-13-40”须为 YYYY-MM-DD 格式的日期/)
    assert.equal(await page.locator(tid('import-errors') + ' [data-code="unknown_model"]').count(), 1)
    assert.match(await page.locator(tid('import-summary')).innerText(), /2 行有错误/)
    await shot(page, 'import-result')

    // Committed: each good serial is in the install base once; the bad ones are not.
    for (const s of SERIALS) {
      const r = await page.request.get(BASE_URL + '/api/v1/assets?serial=' + encodeURIComponent(s))
      assert.equal((await r.json()).items.length, 1, s)
    }
    const none = await page.request.get(BASE_URL + `/api/v1/assets?serial=BT${RUN}-004`)
    assert.equal((await none.json()).items.length, 0)

    // The same file again: nothing new, nothing changed, the same bad rows.
    await uploadAndWait(page, `ib-${RUN}.csv`)
    assert.deepEqual(await counts(page), { created: 0, updated: 0, unchanged: 3, bad: 2, skipped: 0 })
    assert.deepEqual((await badRows(page)).map((r) => r.slice(0, 2)), [['4', 'model_code'], ['5', 'sale_date']])
    for (const s of SERIALS) {
      const r = await page.request.get(BASE_URL + '/api/v1/assets?serial=' + encodeURIComponent(s))
      assert.equal((await r.json()).items.length, 1, s)
    }
    // The owner was created once, not twice.
    const cust = await page.request.get(BASE_URL + '/api/v1/customers?phone=' + PHONE)
    assert.equal((await cust.json()).items.length, 1)

    // Both runs are listed; opening the first shows its result again.
    const history = page.locator(tid('import-history'))
    await page.waitForFunction(
      ([s, name]) => (document.querySelector(s)?.textContent.split(name).length ?? 0) >= 3,
      [tid('import-history'), `ib-${RUN}.csv`],
    )
    const first = history.locator('.el-table__body .el-table__row', { hasText: `ib-${RUN}.csv` }).last()
    await first.getByRole('button').click()
    await page.waitForFunction((s) => Number(document.querySelector(s)?.textContent.trim()) === 3, tid('import-count-created') + ' .num')
    assert.deepEqual(page.errors, [])
  })
})

test('a wrong file is refused at once with the reason; English UI', T, async () => {
  await withPage(browser, 'imports-bad-file', {}, async (page) => {
    await login(page, ADMIN)
    await page.evaluate(() => localStorage.setItem('shouhou.locale', 'en'))
    await page.goto(BASE_URL + '/imports')
    await page.locator(tid('page-imports')).waitFor({ state: 'visible' })
    await page.locator(tid('import-kind-customers')).click()
    await page.locator(tid('import-file')).setInputFiles({
      name: 'wrong.csv', mimeType: 'text/csv', buffer: Buffer.from('serial,model_code\r\nX1,Y\r\n', 'utf8'),
    })
    await page.locator(tid('import-start')).click()
    // The header lacks the customers' name column: a message naming it, no import started.
    await page.locator('.el-message--error', { hasText: 'name' }).waitFor({ state: 'visible' })
    assert.equal(await page.locator(tid('import-current')).count(), 0)
    assert.deepEqual(page.errors, [])
  })
})
