#!/usr/bin/env node
/**
 * The `patchbay` command: `parse`, `check-uri` and (with the daemon issue)
 * `serve`. Exit codes: 0 valid, 1 invalid, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { createParser } from './wasm/load.js';
import { parseCommand, errorLine, type CliError } from './cli/parse-command.js';
import { validateSipTarget } from './sip/sip-target.js';
import { serveCommand } from './cli/serve-command.js';

const USAGE = `usage:
  patchbay serve [options]    run the daemon (patchbay serve --help lists the options)
  patchbay parse [FILE|-]     parse one SIP datagram (file or stdin) and print it as JSON
  patchbay check-uri URI      check a <Sip> dial target and print its parts as JSON
  patchbay --help             this text

exit codes: 0 valid, 1 invalid, 2 usage error`;

function readInput(arg: string | undefined): Uint8Array {
  if (arg === undefined || arg === '-') return readFileSync(0);
  return readFileSync(arg);
}

function print(json: unknown): void {
  process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
}

/** Run the CLI with `argv` (without node and script); @return the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'serve') return serveCommand(rest);
  if (command === 'parse') {
    if (rest.length > 1) {
      process.stderr.write(`patchbay parse: expected at most one FILE\n${USAGE}\n`);
      return 2;
    }
    let bytes: Uint8Array;
    try {
      bytes = readInput(rest[0]);
    } catch (err) {
      process.stderr.write(`patchbay parse: cannot read ${rest[0] ?? 'stdin'}: ${(err as Error).message}\n`);
      return 2;
    }
    const outcome = parseCommand(createParser(), bytes);
    print(outcome.json);
    if (outcome.json.error) process.stderr.write(`${errorLine('parse', outcome.json.error as CliError)}\n`);
    return outcome.exitCode;
  }
  if (command === 'check-uri') {
    if (rest.length !== 1) {
      process.stderr.write(`patchbay check-uri: expected exactly one URI\n${USAGE}\n`);
      return 2;
    }
    const result = validateSipTarget(createParser(), rest[0]!);
    print(result);
    if (!result.ok) process.stderr.write(`${errorLine('check-uri', result.error)}\n`);
    return result.ok ? 0 : 1;
  }
  process.stderr.write(`patchbay: unknown command "${command}"\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (process.argv[2] === 'serve') process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`patchbay: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
