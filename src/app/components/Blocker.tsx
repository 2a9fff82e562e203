/**
 * Why a button is disabled, next to it, with the action that enables it: a button that opens the
 * panel where that step is done. The disabled button points here with aria-describedby.
 */
import type { ReactNode } from 'react';
import { goToPanel } from '../actions/navigation';
import type { PanelId } from '../panelIds';

export function Blocker({
  id,
  children,
  panel,
  action,
  testId,
}: {
  id?: string;
  children: ReactNode;
  /** The panel whose step enables the button, and the words on the button that opens it. */
  panel?: PanelId;
  action?: string;
  testId?: string;
}) {
  return (
    <p className="muted blocker" id={id} data-testid={testId}>
      {children}
      {panel && (
        <>
          {' '}
          <button type="button" onClick={() => goToPanel(panel)}>
            {action}
          </button>
        </>
      )}
    </p>
  );
}
