/**
 * Times every call into the fingerprinter (src/core/io/fingerprint.ts WeightsFingerprinter) from
 * the moment it is installed, so a checkpoint load can report how much of it went to hashing.
 * Used by bench/experiments/fingerprintCost.ts in Node and bench/browser/fingerprint.ts in Chromium.
 */
import { WeightsFingerprinter } from '../../src/core/io/fingerprint';

export interface FingerprintTiming {
  /** Milliseconds inside the fingerprinter and float32 bytes hashed since the last reset. */
  readonly ms: number;
  readonly bytes: number;
  reset(): void;
}

export function timeFingerprinter(): FingerprintTiming {
  const timing = { ms: 0, bytes: 0 };
  const proto = WeightsFingerprinter.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ['tensor', 'add', 'digest']) {
    const original = proto[method];
    proto[method] = function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        timing.ms += performance.now() - started;
        if (method === 'add') timing.bytes += (args[0] as Float32Array).byteLength;
      }
    };
  }
  return {
    get ms() {
      return timing.ms;
    },
    get bytes() {
      return timing.bytes;
    },
    reset() {
      timing.ms = 0;
      timing.bytes = 0;
    },
  };
}

/** One load's line: load time, hashing time and share, throughput. */
export function costLine(label: string, loadMs: number, timing: FingerprintTiming, fingerprint: string): string {
  const gib = timing.bytes / 2 ** 30;
  return (
    `${label}: load ${loadMs.toFixed(0)} ms, of which fingerprint ${timing.ms.toFixed(0)} ms ` +
    `(${((100 * timing.ms) / loadMs).toFixed(1)}% of the load; ${gib.toFixed(2)} GiB of float32 at ` +
    `${(gib / (timing.ms / 1000)).toFixed(2)} GiB/s); fingerprint ${fingerprint}`
  );
}
