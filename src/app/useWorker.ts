/**
 * Owns the training worker for the app's lifetime: restores the settings from the link, starts
 * the worker (workerLifecycle.ts), opens the session (default model and data), and shuts the
 * worker down on unmount.
 */
import { useEffect } from 'react';
import { openSession, restoreSettingsFromLink, syncSettingsToLink } from './actions/session';
import { startWorker, stopWorker } from './workerLifecycle';

export function useWorker(): void {
  useEffect(() => {
    let live = true;
    restoreSettingsFromLink();
    const unsync = syncSettingsToLink();
    void startWorker().then((ready) => {
      if (ready && live) void openSession();
    });
    return () => {
      live = false;
      unsync();
      stopWorker();
    };
  }, []);
}
