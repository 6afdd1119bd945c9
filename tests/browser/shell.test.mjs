// The web shell end to end: login, permission-driven menu, language switch,
// creating a user, logging in as that user, and the phone-width layout.
//   SHOUHOU_URL=http://127.0.0.1:8080 node --test tests/browser/
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, ADMIN, launch, withPage, tid, login, logout, shot } from './lib.mjs'

let browser
let userCreated = false
const newUser = {
  username: 'bt' + Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36),
  password: 'Bt-' + Math.random().toString(36).slice(2, 10) + '9',
  displayName: '浏览器测试坐席',
}

before(async () => {
  browser = await launch()
})
after(async () => {
  if (browser) await browser.close()
})

const T = { timeout: 120_000 }

test('admin: menu, language switch, create a user, log out', T, async () => {
  await withPage(browser, 'admin', {}, async (page) => {
    // Not logged in: any page sends us to the login page.
    await page.goto(BASE_URL + '/users')
    await page.locator(tid('login-username')).waitFor({ state: 'visible' })
    assert.equal(new URL(page.url()).pathname, '/login')
    assert.equal(new URL(page.url()).searchParams.get('redirect'), '/users')
    assert.match(await page.locator(tid('login-hint')).innerText(), /admin \/ shouhou/)

    // Wrong password: an error, still on the login page.
    await page.locator(tid('login-username')).fill(ADMIN.username)
    await page.locator(tid('login-password')).fill('wrong-' + ADMIN.password)
    await page.locator(tid('login-submit')).click()
    await page.locator(tid('login-error')).waitFor({ state: 'visible' })

    // Right password: back to the page we wanted.
    await page.locator(tid('login-username')).fill(ADMIN.username)
    await page.locator(tid('login-password')).fill(ADMIN.password)
    await page.locator(tid('login-submit')).click()
    await page.locator(tid('page-users')).waitFor({ state: 'visible' })
    assert.match(new URL(page.url()).pathname, /^\/users$/)

    // Menu follows the admin's permissions.
    await page.locator(tid('menu-home')).waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('menu-org-units')).innerText()).trim(), '组织机构')
    assert.equal((await page.locator(tid('menu-users')).innerText()).trim(), '用户')
    await page.locator(tid('menu-home')).click()
    await page.locator(tid('page-home')).waitFor({ state: 'visible' })
    await shot(page, 'desktop-home-zh')

    // English, then back to Chinese.
    await page.locator(tid('lang-switch')).click()
    await page.waitForFunction(() => document.querySelector('[data-testid="menu-org-units"]')?.innerText.trim() === 'Organisation')
    assert.equal((await page.locator(tid('menu-users')).innerText()).trim(), 'Users')
    assert.equal((await page.locator(tid('menu-home')).innerText()).trim(), 'Home')
    assert.equal((await page.locator(tid('brand')).innerText()).trim(), 'Shouhou')
    assert.equal(await page.evaluate(() => localStorage.getItem('shouhou.locale')), 'en')
    // The choice survives a reload.
    await page.reload()
    await page.locator(tid('menu-users')).waitFor({ state: 'visible' })
    assert.equal((await page.locator(tid('menu-users')).innerText()).trim(), 'Users')
    await shot(page, 'desktop-home-en')
    await page.locator(tid('lang-switch')).click()
    await page.waitForFunction(() => document.querySelector('[data-testid="menu-org-units"]')?.innerText.trim() === '组织机构')
    assert.equal((await page.locator(tid('brand')).innerText()).trim(), '售后服务管理')

    // Org units page shows the tree.
    await page.locator(tid('menu-org-units')).click()
    await page.locator(tid('page-org-units')).waitFor({ state: 'visible' })
    await page.locator(`${tid('org-tree')} .el-tree-node`).first().waitFor({ state: 'visible' })
    await shot(page, 'desktop-org-units')

    // Create a user with the agent role.
    await page.locator(tid('menu-users')).click()
    await page.locator(tid('page-users')).waitFor({ state: 'visible' })
    await page.locator(tid('user-create')).click()
    const dialog = page.locator('.el-dialog').filter({ has: page.locator(tid('user-form-username')) })
    await dialog.waitFor({ state: 'visible' })
    await page.locator(tid('user-form-username')).fill(newUser.username)
    await page.locator(tid('user-form-display-name')).fill(newUser.displayName)
    await page.locator(tid('user-form-password')).fill(newUser.password)
    // Org unit: open the tree select and take the first unit offered.
    await page.locator(tid('user-form-org')).click()
    const orgNode = page.locator('.org-unit-select-popper:visible .el-tree-node__content').first()
    await orgNode.waitFor({ state: 'visible' })
    await orgNode.click()
    // Roles: agent.
    await page.locator(tid('user-form-roles')).click()
    await page.locator(tid('user-form-role-agent')).click()
    await dialog.locator('.el-dialog__title').click() // close the dropdown
    await page.locator(tid('user-form-phone')).fill('13800138000')
    await shot(page, 'desktop-user-form')
    await page.locator(tid('user-form-submit')).click()
    await dialog.waitFor({ state: 'hidden' })
    // The new user is in the table.
    await page.locator(tid('user-table')).getByText(newUser.username, { exact: true }).waitFor({ state: 'visible' })
    userCreated = true

    // Audit page shows the creation.
    await page.locator(tid('menu-audit')).click()
    await page.locator(tid('page-audit')).waitFor({ state: 'visible' })
    await page.locator(`${tid('audit-table')} .el-table__row`).first().waitFor({ state: 'visible' })
    await shot(page, 'desktop-audit')

    await logout(page)
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page')
  })
})

test('agent: no admin pages in the menu, home shows role and org', T, async () => {
  assert.ok(userCreated, 'needs the user that the previous test creates')
  await withPage(browser, 'agent', {}, async (page) => {
    await login(page, newUser)
    await page.locator(tid('page-home')).waitFor({ state: 'visible' })
    await page.locator(tid('menu-home')).waitFor({ state: 'visible' })
    for (const key of ['org-units', 'users', 'roles', 'audit']) {
      assert.equal(await page.locator(tid('menu-' + key)).count(), 0, `menu-${key} must not show for an agent`)
    }
    assert.equal(await page.locator(tid('menu-group-system')).count(), 0)
    assert.match(await page.locator(tid('home-roles')).innerText(), /坐席/)
    assert.match(await page.locator(tid('current-user-name')).innerText(), new RegExp(newUser.displayName))
    // Typing an admin address by hand gives the "no access" page, not the data.
    await page.goto(BASE_URL + '/users')
    await page.locator(tid('page-forbidden')).waitFor({ state: 'visible' })
    assert.equal(await page.locator(tid('page-users')).count(), 0)
    await logout(page)
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page')
  })
})

test('phone width: drawer menu, screenshot', T, async () => {
  await withPage(browser, 'phone', { viewport: { width: 390, height: 844 }, mobile: true }, async (page) => {
    await login(page, ADMIN)
    await page.locator(tid('page-home')).waitFor({ state: 'visible' })
    const toggle = page.locator(tid('menu-toggle'))
    await toggle.waitFor({ state: 'visible' })
    assert.ok(await toggle.isVisible(), 'hamburger button visible at phone width')
    assert.equal(await page.locator('.app-aside').count(), 0, 'no fixed side menu at phone width')
    // Nothing wider than the screen.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`)
    await page.screenshot({ path: '/tmp/shouhou-phone.png' })

    // The drawer opens with the menu and navigates.
    await toggle.click()
    await page.locator(tid('menu-users')).waitFor({ state: 'visible' })
    await shot(page, 'phone-drawer')
    await page.locator(tid('menu-users')).click()
    await page.locator(tid('page-users')).waitFor({ state: 'visible' })
    await page.locator(tid('menu-users')).waitFor({ state: 'hidden' })
    await shot(page, 'phone-users')
    await page.locator(tid('user-create')).click()
    await page.locator(tid('user-form-username')).waitFor({ state: 'visible' })
    await shot(page, 'phone-user-form')
    assert.deepEqual(page.errors, [], 'no uncaught errors in the page')
  })
})
