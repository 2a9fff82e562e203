/** The message of anything thrown, for showing to a person. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
