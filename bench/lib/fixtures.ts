/**
 * Loads the wire-format SIP messages under `test/fixtures/messages/` for benches and tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names of the message fixtures, without the `.sip` extension, in the order benches print them. */
export const MESSAGE_FIXTURE_NAMES = ['invite-sdp', 'ok-200', 'refer', 'options'] as const;

/** Name of one message fixture. */
export type MessageFixtureName = (typeof MESSAGE_FIXTURE_NAMES)[number];

/** One SIP message exactly as it arrives from the wire. */
export interface MessageFixture {
  /** File name without `.sip`. */
  name: MessageFixtureName;
  /** The exact bytes of the file, CRLF line endings included. */
  bytes: Uint8Array;
}

/**
 * Finds the project root: the nearest folder above this module that holds `package.json`.
 * Works from the sources (`bench/lib/`) and from the build (`dist/bench/lib/`).
 * @returns absolute path of the project root
 */
export function findProjectRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) {
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    }
    folder = parent;
  }
  return folder;
}

/**
 * Reads every message fixture into memory, so benches never touch the disk while measuring.
 * @returns one fixture per name in `MESSAGE_FIXTURE_NAMES`, in that order
 */
export function loadMessageFixtures(): MessageFixture[] {
  const folder = join(findProjectRoot(), 'test', 'fixtures', 'messages');
  return MESSAGE_FIXTURE_NAMES.map((name) => {
    const file = readFileSync(join(folder, `${name}.sip`));
    return { name, bytes: new Uint8Array(file.buffer, file.byteOffset, file.byteLength) };
  });
}
