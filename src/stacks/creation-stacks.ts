/**
 * cdktf records the whole call stack of every token it creates (each attribute reference, each list
 * of blocks a provider resource declares), to name where a token came from if it later fails to
 * resolve. At thousands of roles that is a fifth of the synth's time and a tenth of its memory, for
 * a message the synth prints only on a bug. `skipTokenCreationStacks` replaces the recorder with one
 * that records nothing (cdktf reads it through its module's exports at each call); the synthesized
 * stacks are the same byte for byte. The synth keeps the stacks when DEBUG is set.
 *
 * The module is cdktf's private one: when it is not there (another cdktf, or CDK Terrain moved it),
 * nothing is replaced and the synth is only slower.
 */
type StackTraceModule = { captureStackTrace: (below?: unknown) => string[] };

/** Stops cdktf recording creation stacks; returns what puts the recorder back. */
export function skipTokenCreationStacks(): () => void {
  let recorder: StackTraceModule;
  try {
    // A literal path, so that the synth's bundle replaces the recorder of the cdktf it bundles.
    recorder = require('cdktf/lib/tokens/private/stack-trace') as StackTraceModule;
  } catch {
    return () => undefined;
  }
  const original = recorder.captureStackTrace;
  if (typeof original !== 'function') return () => undefined;
  recorder.captureStackTrace = () => [];
  return () => {
    recorder.captureStackTrace = original;
  };
}
