import { ABI_VERSION } from './abi';

/** @return the ABI version; the runtime refuses a mismatch. */
export function abi_version(): i32 {
  return ABI_VERSION;
}
