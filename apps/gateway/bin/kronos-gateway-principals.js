#!/usr/bin/env node
// Manages the gateway's API-key principals (add, list, revoke); `--help` says how. Needs the build (dist/).
import { runPrincipalsCli } from "../dist/principals-cli.js";

process.exitCode = runPrincipalsCli(process.argv.slice(2));
