// Shared helpers for the browser tests. Uses Debian's Chromium (never a
// downloaded browser) through playwright-core.
import { chromium } from 'playwright-core'
import fs from 'node:fs'

export const BASE_URL = (process.env.SHOUHOU_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
export const CHROMIUM = process.env.SHOUHOU_CHROMIUM || '/usr/bin/chromium'
export const ADMIN = { username: process.env.SHOUHOU_ADMIN_USER || 'admin', password: process.env.SHOUHOU_ADMIN_PASSWORD || 'shouhou' }
// Optional: where to write extra screenshots for a person to look at.
export const SHOT_DIR = process.env.SHOUHOU_SHOT_DIR || ''

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)`)
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  })
}

// A fresh context (own cookies and localStorage) with a page that records
// uncaught page errors in page.errors.
export async function newPage(browser, { viewport = { width: 1280, height: 800 }, mobile = false } = {}) {
  const context = await browser.newContext({
    viewport,
    isMobile: mobile,
    hasTouch: mobile,
    deviceScaleFactor: 1,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  })
  context.setDefaultTimeout(15000)
  const page = await context.newPage()
  page.errors = []
  page.on('pageerror', (e) => page.errors.push(String(e && e.stack ? e.stack : e)))
  return { context, page }
}

export const tid = (id) => `[data-testid="${id}"]`

export async function login(page, { username, password }) {
  await page.goto(BASE_URL + '/login')
  await page.locator(tid('login-username')).fill(username)
  await page.locator(tid('login-password')).fill(password)
  await page.locator(tid('login-submit')).click()
  await page.locator(tid('logout')).waitFor({ state: 'visible' })
}

export async function logout(page) {
  await page.locator(tid('logout')).click()
  await page.locator(tid('login-username')).waitFor({ state: 'visible' })
}

export async function shot(page, name) {
  if (!SHOT_DIR) return
  fs.mkdirSync(SHOT_DIR, { recursive: true })
  await page.screenshot({ path: `${SHOT_DIR}/${name}.png`, fullPage: true })
}

// Run fn(page) in a fresh context; on failure keep a screenshot of the page
// (/tmp/shouhou-fail-<name>.png) to show what the user would have seen.
export async function withPage(browser, name, opts, fn) {
  const { context, page } = await newPage(browser, opts)
  try {
    await fn(page)
  } catch (e) {
    const file = `/tmp/shouhou-fail-${name}.png`
    await page.screenshot({ path: file, fullPage: true }).catch(() => {})
    e.message += `\n  (page at ${page.url()}, screenshot ${file})`
    throw e
  } finally {
    await context.close()
  }
}
