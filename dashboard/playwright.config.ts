import { defineConfig } from "@playwright/test";

// Browser tests in Debian's headless Chromium (apt-get install chromium); no
// browser is ever downloaded. e2e/global-setup.ts starts the api with a fresh
// seeded database and, for the widget/handoff tests, Rasa + the action server.
export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  globalSetup: "./e2e/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    headless: true,
    screenshot: "only-on-failure",
    trace: "off",
    locale: "ru-RU",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    },
  },
});
