/**
 * Owns the training worker for the app's lifetime: restores the settings from the link, starts
 * the worker, picks the backend, opens the session (default model and data), and shuts the worker
 * down on unmount.
 */
import { useEffect } from 'react';
import { openSession, restoreSettingsFromLink, syncSettingsToLink } from './actions/session';
import { errorMessage } from './errorMessage';
import { useStudio } from './store';
import { createWorkerClient } from './workerClient';

export function useWorker(): void {
  useEffect(() => {
    const { setWorker, setBackend } = useStudio.getState();
    let live = true;
    const fail = (message: string) => {
      if (live) setBackend({ status: 'failed', message });
    };
    restoreSettingsFromLink();
    const unsync = syncSettingsToLink();
    const client = createWorkerClient(fail);
    setWorker(client.api);
    client.api.initBackend().then(
      (info) => {
        if (!live) return;
        setBackend({ status: 'ready', info });
        void openSession();
      },
      (e: unknown) => fail(errorMessage(e)),
    );
    return () => {
      live = false;
      unsync();
      client.terminate();
      setWorker(null);
      setBackend({ status: 'starting' });
    };
  }, []);
}
