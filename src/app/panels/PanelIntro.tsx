/** The opening lines of a panel: what it is for, and whether that part of the studio exists yet. */
import type { ReactNode } from 'react';

export function PanelIntro({ children, planned = false }: { children: ReactNode; planned?: boolean }) {
  return (
    <div className="panel-intro">
      <p>{children}</p>
      {planned && <p className="planned">Not built yet: this panel arrives with a later part of the studio.</p>}
    </div>
  );
}
