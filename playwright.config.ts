import { defineConfig } from "@playwright/test";
import { E2E_DATA_DIR as dataDir, E2E_PORT as port, E2E_SMTP_PORT as smtpPort } from "./test/e2e/support";

/** Browser tests drive Debian's chromium (never a downloaded browser) against `npm start`'s server. */
export default defineConfig({
  testDir: "test/e2e",
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [["list"]],
  timeout: 30_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    // A fresh embedded database with the demo plant for every run.
    command: `rm -rf ${dataDir} && exec node_modules/.bin/tsx server/main.ts`,
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      C981_DATA_DIR: dataDir,
      NODE_ENV: "production",
      // Notification e-mails go to the SMTP server test/e2e/notifications.spec.ts starts (ADR 032).
      C981_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      C981_PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 15_000 },
  },
});
