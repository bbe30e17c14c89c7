import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { API_KEY_PATTERN, PrincipalsStore } from "./principals.js";
import { createPrincipalsCli } from "./principals-cli.js";

// As the gateway names its CLI.
const runPrincipalsCli = createPrincipalsCli({
  program: "kronos-gateway-principals",
  invocation: "node apps/gateway/bin/kronos-gateway-principals.js",
  envPrefix: "GATEWAY",
  exampleUrl: "http://127.0.0.1:3000/whoami",
});

function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = runPrincipalsCli(argv, {
    env,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

const tempFile = () => join(mkdtempSync(join(tmpdir(), "gw-cli-")), "principals.json");

describe("kronos-gateway-principals", () => {
  it("--help explains every command", () => {
    const { code, stdout } = cli(["--help"]);
    expect(code).toBe(0);
    for (const word of ["add <id>", "list", "revoke <id>", "--file", "--acl", "produce:<glob>", "ONCE", "dlq:replay"]) {
      expect(stdout).toContain(word);
    }
  });

  it("adds (printing the key once), lists (never the key) and revokes; the gateway's store follows", async () => {
    const file = tempFile();
    const env = { GATEWAY_PRINCIPALS_FILE: file };
    const added = cli(["add", "billing", "--acl", "produce:kronos.log.*,consume:kronos.log.*", "--acl", "admin"], env);
    expect(added.code, added.stderr).toBe(0);
    const key = /(kgw_\S+)/.exec(added.stdout)?.[1] ?? "";
    expect(key).toMatch(API_KEY_PATTERN);
    expect(added.stdout).toContain("shown this once");

    const listed = cli(["list"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^billing\tactive\tcreated \S+\tproduce:kronos\.log\.\*,consume:kronos\.log\.\*,admin\n$/,
    );
    expect(listed.stdout).not.toContain(key);
    const json = cli(["list", "--json", "--file", file]);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ id: "billing", acl: ["produce:kronos.log.*", "consume:kronos.log.*", "admin"] }),
    ]);
    expect(json.stdout).not.toContain(key);
    expect(json.stdout).not.toContain("sha256");

    const store = new PrincipalsStore(file);
    expect((await store.lookup(key)).found).toBe("valid");
    const revoked = cli(["revoke", "billing"], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('Revoked principal "billing"');
    expect((await store.lookup(key)).found).toBe("revoked");
    expect(cli(["list"], env).stdout).toMatch(/^billing\trevoked \d{4}-/);
  });

  it("add --if-missing creates once, then says it exists", () => {
    const file = tempFile();
    const first = cli(["add", "dev", "--acl", "admin", "--if-missing", "--json", "--file", file]);
    expect(JSON.parse(first.stdout).key).toMatch(API_KEY_PATTERN);
    const again = cli(["add", "dev", "--acl", "admin", "--if-missing", "--file", file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Principal "dev" already exists');
    expect(again.stdout).not.toMatch(/kgw_/);
  });

  it("fails with a sentence and exit 1 on refused input, exit 2 on bad usage", () => {
    const file = tempFile();
    expect(cli(["add", "x", "--acl", "admin", "--file", file]).code).toBe(0);
    const duplicate = cli(["add", "x", "--acl", "admin", "--file", file]);
    expect(duplicate).toMatchObject({ code: 1, stdout: "" });
    expect(duplicate.stderr).toBe(`kronos-gateway-principals: a principal "x" already exists in ${file}\n`);
    expect(cli(["add", "y", "--acl", "write:*", "--file", file]).stderr).toContain('not a right: "write:*"');
    expect(cli(["revoke", "nobody", "--file", file]).code).toBe(1);
    expect(cli(["add", "z", "--file", file]).code).toBe(2);
    expect(cli(["frobnicate"]).code).toBe(2);
    expect(cli(["list", "--bogus"]).code).toBe(2);
  });

  it("accepts every right of RIGHTS, the dead-letter ones included, and defaults to the app's variable", () => {
    const file = tempFile();
    const env = { GATEWAY_PRINCIPALS_FILE: file };
    const added = cli(
      ["add", "operator", "--acl", "dlq:read", "--acl", "dlq:replay,dlq:discard,produce:kronos.*"],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(cli(["list", "--json"], env).stdout)).toEqual([
      expect.objectContaining({ id: "operator", acl: ["dlq:read", "dlq:replay", "dlq:discard", "produce:kronos.*"] }),
    ]);
    expect(cli(["add", "o2", "--acl", "dlq:*", "--file", file]).stderr).toContain('not a right: "dlq:*"');
  });
});
