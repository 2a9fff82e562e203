/** The opening lines of a panel: what it is for. */
import type { ReactNode } from 'react';

export function PanelIntro({ children }: { children: ReactNode }) {
  return (
    <div className="panel-intro">
      <p>{children}</p>
    </div>
  );
}
