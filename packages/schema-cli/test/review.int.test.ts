import { randomBytes } from "node:crypto";
import { testEndpoints } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import type { FixtureField } from "./catalog-fixture.js";
import { capture, reviewRepo } from "./review-fixture.js";

const registryUrl = testEndpoints().registryUrl;
const domain = `rv${randomBytes(4).toString("hex")}`;
const subject = `kronos.${domain}.Thing`;

afterAll(async () => {
  await fetch(`${registryUrl}/subjects/${subject}`, { method: "DELETE" });
  await fetch(`${registryUrl}/subjects/${subject}?permanent=true`, { method: "DELETE" });
});

const v1: FixtureField[] = [{ name: "id", type: "string", doc: "Id." }];

describe("kronos-schemas review --registry (real registry)", () => {
  const repo = reviewRepo(domain, v1);
  repo.commit("v1");

  it("an unregistered subject: says so, judges from git", async () => {
    repo.write([...v1, { name: "note", type: "string", doc: "A note.", default: "" }]);
    const output = capture();
    expect(await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--registry", registryUrl], output)).toBe(
      0,
    );
    expect(output.text()).toContain("Registry: subject not registered yet");
    expect(output.text()).toContain("versions from git");
  });

  it("a registered subject: versions from the registry, and its verdict agrees with ours (compatible and not)", async () => {
    const register = capture();
    repo.write(v1);
    expect(await main(["register", "--schemas", repo.schemas, "--registry", registryUrl], register)).toBe(0);

    repo.write([...v1, { name: "note", type: "string", doc: "A note.", default: "" }]);
    const ok = capture();
    expect(
      await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--registry", registryUrl, "--json"], ok),
    ).toBe(0);
    const good = JSON.parse(ok.text()) as { events: { history: string; registry: object; headVersion: string }[] };
    expect(good.events[0]).toMatchObject({ history: "registry", headVersion: "v2" });
    expect(good.events[0]?.registry).toEqual({
      subject,
      registered: true,
      mode: "BACKWARD",
      versions: [1],
      registryCompatible: true,
      ourCompatible: true,
      agrees: true,
      notes: [],
    });

    repo.write([...v1, { name: "count", type: "int", doc: "A new field without a default." }]);
    const bad = capture();
    expect(await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--registry", registryUrl], bad)).toBe(1);
    expect(bad.text()).toContain(
      "`count` was added without a default: consumers on v2 cannot read messages written with v1, which have no `count` (BACKWARD)",
    );
    expect(bad.text()).toContain("Registry (BACKWARD, versions 1): incompatible — agrees with this review.");
  });
});
