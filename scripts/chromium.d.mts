export declare const CHROMIUM_CANDIDATES: readonly string[];
export declare const CHROMIUM_INSTALL_COMMAND: string;
export declare const CHROMIUM_ARGS: string[];
export declare function findChromium(
  env?: Record<string, string | undefined>,
): { path: string; source: string } | { path: null; problem: string };
