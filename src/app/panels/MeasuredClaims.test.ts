// The Compare panel's "Measured on the embedded model" section renders the committed
// bench/results/claims.json: the task and its test splits, one row per arm plus the base model, the
// fusion rows and a verdict per claim.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import claimsJson from '../../../bench/results/claims.json';
import type { ClaimsResults } from '../../core/claims';
import { MeasuredClaims } from './MeasuredClaims';

const claims = claimsJson as ClaimsResults;

describe('MeasuredClaims', () => {
  it('shows every arm of the committed results, the base model first, and the fusion conditions', () => {
    const html = renderToStaticMarkup(createElement(MeasuredClaims));
    const arms = [...html.matchAll(/data-arm="([^"]+)"/g)].map((m) => m[1]);
    expect(arms).toEqual(['base', ...claims.arms.map((a) => a.arm)]);
    expect(html).toContain('Measured on the embedded model');
    expect(html).toContain(`fine-tuned on the number-words task for ${claims.settings.steps} steps`);
    const { splits, fusionGroups } = claims.settings;
    expect(html).toContain(`on ${splits.inDistribution.rows} in-distribution rows (${splits.inDistribution.what})`);
    expect(html).toContain(`${splits.shifted.rows} shifted rows (${splits.shifted.what})`);
    expect(html).toContain(`Group A (${fusionGroups.a.join(', ')}): alone → fused`);
    for (const a of claims.arms) expect(html).toContain(a.label);
    const kinds = new Set(claims.fusion.flatMap((f) => f.conditions.map((c) => c.kind)));
    for (const k of kinds) expect(html).toContain(`${k} selections`);
    // One verdict per claim of the paper, in words.
    const verdicts = [...html.matchAll(/<li><strong>([^<]+)<\/strong>/g)].map((m) => m[1]);
    expect(verdicts.length).toBeGreaterThanOrEqual(3);
    for (const v of verdicts) expect(['observed', 'not observed', 'not separated']).toContain(v);
    expect(html).not.toContain('NaN');
  });
});
