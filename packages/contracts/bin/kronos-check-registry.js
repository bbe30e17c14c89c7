#!/usr/bin/env node
import { checkRegistryMain } from "../dist/check-registry-cli.js";

process.exitCode = await checkRegistryMain(process.argv.slice(2));
