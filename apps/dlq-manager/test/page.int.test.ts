import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { KronosApp } from "@kronos/app-kit";
import { ConfluentRegistryClient } from "@kronos/contracts";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { declareQueue } from "@kronos/transport";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestDatabase } from "./database.js";
import { asOperator, drain, OPERATOR, openApp, registerTestEvent, seedDeadLetter, type TestEvent } from "./harness.js";

// The operators' page in a real browser (Debian's Chromium driven by playwright-core) against the real stack:
// enter an API key, find a dead letter, look at it decoded, dry run, replay, see it replayed. The screenshot is kept in test-results/.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const ARTIFACTS = fileURLToPath(new URL("../test-results/", import.meta.url));

/** Debian's Chromium, installed with apt-get when missing and this user may; otherwise says how. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() === 0) spawnSync("apt-get", ["install", "-y", "chromium"], { stdio: "ignore" });
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (sudo apt-get install chromium) or set CHROMIUM_PATH`);
  }
}

const resources = new TestResources();
const database = new TestDatabase();
const queue = resources.queue("dlq-page");
let app: KronosApp;
let event: TestEvent;
const events: TestEvent[] = [];
let browser: Browser;
let base: string;

beforeAll(async () => {
  ensureChromium();
  event = await registerTestEvent();
  app = await openApp(database, {});
  await declareQueue(app.amqp, queue, {});
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await Promise.all([database.drop(), resources.cleanup(), event?.cleanup(), ...events.map((e) => e.cleanup())]);
});

describe("the operators' page", () => {
  it("takes an API key, finds a dead letter, shows it decoded, dry runs, replays it and shows it replayed", async () => {
    const source = `${queue}.dlq`;
    const id = await seedDeadLetter(app, {
      broker: "rabbitmq",
      destination: "",
      routingKey: queue,
      source,
      body: event.encode({ id: "order-42", amount: 42 }),
      messageId: "page-1",
      eventType: event.name,
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/`);
      // Without a key the API answers 401 and the page says what to do.
      await page.locator("#key-state.error", { hasText: "enter an API key" }).waitFor();
      expect(await page.locator("#groups tbody tr").count()).toBe(0);
      await page.getByLabel("API key").fill("kgw_not-a-key");
      await page.getByRole("button", { name: "Use key" }).click();
      await page.locator("#key-state.error", { hasText: "this API key is refused" }).waitFor();
      await page.getByLabel("API key").fill(asOperator["x-api-key"]);
      await page.getByRole("button", { name: "Use key" }).click();
      await page.locator("#groups tbody tr", { hasText: source }).waitFor();
      // The key is kept for the tab: a reload still shows the data.
      await page.reload();
      await page.locator("#groups tbody tr", { hasText: source }).waitFor();

      await page.getByLabel("source", { exact: true }).fill(source);
      await page.getByRole("button", { name: "Filter" }).click();
      const row = page.locator(`#letters tr[data-id="${id}"]`);
      await row.waitFor();
      await row.locator("td", { hasText: source }).click();
      await page.locator("#detail-payload", { hasText: "order-42" }).waitFor();
      expect(await page.locator("#detail-payload").textContent()).toContain(`schema id ${event.schemaId}`);

      await row.getByLabel(`select ${id}`).check();
      await page.getByRole("button", { name: "Dry run selected" }).click();
      await page
        .locator("#jobs tbody tr", { hasText: "yes" })
        .locator(".job-state", { hasText: "completed" })
        .waitFor();

      await page.locator("#rate").fill("5");
      await row.getByLabel(`select ${id}`).check();
      await page.getByRole("button", { name: "Replay selected" }).click();
      const started = page.locator("#action-result", { hasText: "replay job" });
      await started.waitFor();
      const jobId = /replay job (\d+) started/.exec((await started.textContent()) ?? "")?.[1];
      const job = page.locator(`#jobs tbody tr[data-job="${jobId}"]`);
      await job.locator(".job-state", { hasText: "completed" }).waitFor({ timeout: 20_000 });
      expect(await job.locator(".job-sent").textContent()).toBe("1");
      await page.locator(`#letters tr[data-id="${id}"] .state-replayed`).waitFor({ timeout: 10_000 });
      await page.locator("#audit tbody tr", { hasText: "replay" }).first().waitFor();
      expect(await page.locator("#audit tbody tr", { hasText: "replay" }).first().textContent()).toContain(OPERATOR);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}dlq-page.png`, fullPage: true });
    } finally {
      await page.close();
    }
    const [message] = await drain(queue, 1);
    expect(message?.properties.messageId).toBe("page-1");
  });

  it("shows a group's trend, repairs a payload the current schema cannot read (refusing an invalid one), and replays it", async () => {
    // v2 adds a field without a default under FORWARD: v2 cannot read v1, so the v1 dead letter needs a repair.
    const changing = await registerTestEvent();
    events.push(changing);
    const client = new ConfluentRegistryClient({ url: testEndpoints().registryUrl });
    const v2 = {
      ...changing.schema,
      fields: [...(changing.schema as { fields: object[] }).fields, { name: "currency", type: "string" }],
    };
    const v2Id = await client.register(changing.name, JSON.stringify(v2), "FORWARD");
    const source = `${queue}.repair.dlq`;
    const id = await seedDeadLetter(app, {
      broker: "rabbitmq",
      destination: "",
      routingKey: queue,
      source,
      body: changing.encode({ id: "order-7", amount: 7 }),
      messageId: "page-repair",
      eventType: changing.name,
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/`);
      await page.getByLabel("API key").fill(asOperator["x-api-key"]);
      await page.getByRole("button", { name: "Use key" }).click();
      const group = page.locator("#groups tbody tr", { hasText: source });
      await group.waitFor();
      expect(await group.locator(".trend-last").textContent()).toBe("1 in the last hour");
      expect(await group.locator(".trend").getAttribute("title")).toMatch(
        /over the last 24 hours, oldest first: (0, ){23}1$/,
      );

      await page.getByLabel("source", { exact: true }).fill(source);
      await page.getByRole("button", { name: "Filter" }).click();
      const row = page.locator(`#letters tr[data-id="${id}"]`);
      await row.locator("td", { hasText: source }).click();
      await page.locator("#detail-payload", { hasText: "order-7" }).waitFor();
      expect(JSON.parse(await page.getByLabel("repaired payload").inputValue())).toEqual({ id: "order-7", amount: 7 });
      expect(await page.getByRole("button", { name: "Replay repaired" }).isDisabled()).toBe(true);

      await page.getByLabel("repaired payload").fill('{ "id": "order-7", "amount": "seven", "currency": "EUR" }');
      await page.getByRole("button", { name: "Validate and save repair" }).click();
      const refused = page.locator("#repair-result.error", { hasText: "REPAIR_INVALID" });
      await refused.waitFor();
      expect(await refused.textContent()).toContain("amount");
      expect(await page.getByRole("button", { name: "Replay repaired" }).isDisabled()).toBe(true);

      await page.getByLabel("repaired payload").fill('{ "id": "order-7", "amount": 7, "currency": "EUR" }');
      await page.getByRole("button", { name: "Validate and save repair" }).click();
      await page.locator("#repair-result", { hasText: `valid: saved, encoded with schema id ${v2Id}` }).waitFor();
      await page.locator("#detail-payload", { hasText: `repaired, what a replay sends: schema id ${v2Id}` }).waitFor();
      expect(await page.locator("#detail-payload").textContent()).toContain('"currency": "EUR"');
      await page.getByRole("button", { name: "Replay repaired" }).click();
      const started = page.locator("#repair-result", { hasText: "replay job" });
      await started.waitFor();
      const jobId = /replay job (\d+) started/.exec((await started.textContent()) ?? "")?.[1];
      const job = page.locator(`#jobs tbody tr[data-job="${jobId}"]`);
      await job.locator(".job-state", { hasText: "completed" }).waitFor({ timeout: 20_000 });
      expect(await job.locator(".job-sent").textContent()).toBe("1");
      // The open dead letter follows: replayed, with the repair and the replay in its history.
      await page.locator("#detail-summary", { hasText: "state replayed" }).waitFor({ timeout: 10_000 });
      const history = await page.locator("#detail-history").textContent();
      expect(history).toContain("dlq-operator repair ");
      expect(history).toContain("dlq-operator replay ");
      await page.locator("#audit tbody tr", { hasText: "repair" }).first().waitFor();

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}dlq-page-repair.png`, fullPage: true });
    } finally {
      await page.close();
    }
    const [message] = await drain(queue, 1);
    expect(message?.properties.messageId).toBe("page-repair");
    expect(message?.content.readUInt32BE(1)).toBe(v2Id);
  });
});
