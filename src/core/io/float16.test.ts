import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  decodeBf16,
  decodeF16,
  encodeBf16,
  encodeF16,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
} from './float16';

const f32FromBits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

describe('float16 (IEEE half)', () => {
  // [value, expected bits], worked out by hand from sign | exponent(5, bias 15) | mantissa(10).
  const cases: [number, number, string][] = [
    [1, 0x3c00, '1 = 2^0'],
    [-2, 0xc000, '-2'],
    [0.5, 0x3800, '2^-1'],
    [65504, 0x7bff, 'largest finite'],
    [65519, 0x7bff, 'below the midpoint to Inf rounds down'],
    [65520, 0x7c00, 'midpoint 65504..65536 ties to even = Inf'],
    [2 ** -14, 0x0400, 'smallest normal'],
    [2 ** -24, 0x0001, 'smallest subnormal'],
    [2 ** -25, 0x0000, 'half the smallest subnormal ties to even = 0'],
    [1.5 * 2 ** -25, 0x0001, 'above the tie rounds up'],
    [3 * 2 ** -25, 0x0002, 'subnormal tie 1.5 ulp → even 2'],
    [1 + 2 ** -11, 0x3c00, 'tie between 0x3c00 and 0x3c01 → even'],
    [1 + 3 * 2 ** -11, 0x3c02, 'tie between 0x3c01 and 0x3c02 → even'],
    [0.1, 0x2e66, '0.1 → 0.0999755859375'],
    [1 / 3, 0x3555, '1/3 → 0.333251953125'],
    [-0, 0x8000, 'negative zero'],
    [Infinity, 0x7c00, '+Inf'],
    [-Infinity, 0xfc00, '-Inf'],
    [NaN, 0x7e00, 'quiet NaN'],
    [1e-10, 0x0000, 'underflow'],
    [1e6, 0x7c00, 'overflow'],
  ];
  it.each(cases)('encodes %f as bits %i (%s)', (value, bits) => {
    expect(f32ToF16Bits(value)).toBe(bits);
  });

  it('decodes hand-computed patterns', () => {
    expect(f16BitsToF32(0x3555)).toBe(0.333251953125);
    expect(f16BitsToF32(0x2e66)).toBe(0.0999755859375);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x7c01)).toBeNaN();
  });

  it('round-trips all 63 490 non-NaN bit patterns', () => {
    let checked = 0;
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue;
      if (f32ToF16Bits(f16BitsToF32(h)) !== h) throw new Error(`0x${h.toString(16)} does not round-trip`);
      checked++;
    }
    console.log(`float16: ${checked} bit patterns round-trip`);
    expect(checked).toBe(65536 - 2 * 1023);
  });

  it('array codecs agree with the scalar ones, also at an odd byte offset', () => {
    const values = new Float32Array([1, -2, 0.1, 65504, 2 ** -24, -0]);
    const bytes = encodeF16(values);
    expect(Array.from(new Uint16Array(bytes.buffer))).toEqual(Array.from(values, f32ToF16Bits));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(Array.from(decodeF16(shifted.subarray(1)))).toEqual(
      Array.from(values, (v) => f16BitsToF32(f32ToF16Bits(v))),
    );
  });
});

describe('bfloat16', () => {
  const cases: [number, number, string][] = [
    [1, 0x3f80, '1'],
    [-2, 0xc000, '-2'],
    [Math.PI, 0x4049, 'pi 0x40490fdb → low half below the midpoint'],
    [f32FromBits(0x3f808000), 0x3f80, 'tie, even stays'],
    [f32FromBits(0x3f818000), 0x3f82, 'tie, odd rounds up'],
    [f32FromBits(0x3f808001), 0x3f81, 'above the tie'],
    [f32FromBits(0x7f7fffff), 0x7f80, 'largest float32 rounds to Inf'],
    [f32FromBits(0x7f800001), 0x7fc0, 'signalling NaN becomes quiet'],
    [-0, 0x8000, 'negative zero'],
  ];
  it.each(cases)('encodes %f as bits %i (%s)', (value, bits) => {
    expect(f32ToBf16Bits(value)).toBe(bits);
  });

  it('decodes by placing the bits in the top half of a float32', () => {
    expect(bf16BitsToF32(0x4049)).toBe(3.140625);
    expect(bf16BitsToF32(0xbf80)).toBe(-1);
    expect(bf16BitsToF32(0x0001)).toBe(f32FromBits(0x00010000));
  });

  it('array codecs round-trip representable values', () => {
    const values = new Float32Array([1, -2, 3.140625, 0, -0.5, 1e30].map((v) => bf16BitsToF32(f32ToBf16Bits(v))));
    const decoded = decodeBf16(encodeBf16(values));
    expect(Array.from(decoded)).toEqual(Array.from(values));
  });
});
