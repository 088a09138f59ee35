// One Lighthouse run (mobile preset, the default) in Debian's chromium, logged in:
//
//   CHROME_PATH=/usr/bin/chromium node run.mjs <url> <report.json> [<cookie name> <value>]
//
// The session cookie goes into the browser's cookie jar before Lighthouse loads the page
// (Lighthouse clears caches and service workers between runs, never cookies), so that the
// page's own fetch() calls and its websocket are logged in too; a Cookie in --extra-headers
// reaches the page itself but not those.
import { writeFileSync } from "node:fs";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import puppeteer from "puppeteer-core";

const [url, out, cookieName, cookieValue] = process.argv.slice(2);
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH,
  chromeFlags: [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  if (cookieName) {
    const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` });
    const page = await browser.newPage();
    await page.setCookie({ name: cookieName, value: cookieValue, url, httpOnly: true });
    await page.close();
    await browser.disconnect();
  }
  const result = await lighthouse(url, {
    port: chrome.port,
    output: "json",
    logLevel: "error",
    onlyCategories: ["performance", "accessibility", "best-practices"],
  });
  writeFileSync(out, result.report);
} finally {
  await chrome.kill();
}
