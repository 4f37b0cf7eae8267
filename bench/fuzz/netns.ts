/**
 * A throw-away Linux network namespace with only its loopback up (ip-netns(8)): whatever runs in it
 * can reach nothing but itself, so mutated addresses (a bit flip turning 127.0.0.1 into a public
 * address, a made-up host name to resolve) never leave the machine, and iptables rules added in it
 * (the loss test's random drops) touch no other process. Needs root and iproute2.
 */
import { spawnSync } from 'node:child_process';

/** A namespace that exists until `remove()`. */
export interface Netns {
  readonly name: string;
  /** `ip netns exec NAME` followed by the command: spawn this instead of the command. */
  wrap(command: string, args: readonly string[]): [string, string[]];
  /** Runs a command in the namespace and fails with its stderr when it fails. */
  run(command: string, args: readonly string[]): void;
  /** Deletes the namespace (idempotent; processes still in it keep running until they exit). */
  remove(): void;
}

/** Why a namespace cannot be made here, or undefined when it can (root, `ip` and the netns support). */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error !== undefined) return 'ip (iproute2) is not installed';
  if (ip.status !== 0) return `ip netns does not work here: ${ip.stderr.trim()}`;
  return undefined;
}

function check(command: string, args: readonly string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}: ${result.stderr.trim()}`);
}

/**
 * Creates a namespace `<prefix>-<pid>` and brings its loopback up.
 * @param prefix - name prefix, e.g. patchbay-loss
 * @returns the namespace; the caller removes it (also on failure)
 */
export function createNetns(prefix: string): Netns {
  const name = `${prefix}-${process.pid}`;
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); // a leftover of a killed run with this pid
  check('ip', ['netns', 'add', name]);
  let removed = false;
  const netns: Netns = {
    name,
    wrap: (command, args) => ['ip', ['netns', 'exec', name, command, ...args]],
    run: (command, args) => check('ip', ['netns', 'exec', name, command, ...args]),
    remove: () => {
      if (removed) return;
      removed = true;
      spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    },
  };
  try {
    netns.run('ip', ['link', 'set', 'lo', 'up']);
  } catch (error) {
    netns.remove();
    throw error;
  }
  return netns;
}
