/**
 * The selection strategies (paper §3.2 and the official code's) and which end of the scores they
 * take: plain lists, so the studio page and the CLI offer the same options without loading tfjs.
 */
export const STRATEGIES = ['random', 'weight', 'activation', 'product', 'gradient'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const PICK_SIDES = ['large', 'small'] as const;
export type PickSide = (typeof PICK_SIDES)[number];
