/**
 * Owns the training worker for the app's lifetime: starts it, picks the backend, publishes both
 * to the store, and shuts the worker down on unmount.
 */
import { useEffect } from 'react';
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
    const client = createWorkerClient(fail);
    setWorker(client.api);
    client.api.initBackend().then(
      (info) => {
        if (live) setBackend({ status: 'ready', info });
      },
      (e: unknown) => fail(errorMessage(e)),
    );
    return () => {
      live = false;
      client.terminate();
      setWorker(null);
      setBackend({ status: 'starting' });
    };
  }, []);
}
