/** Moving between panels from a button inside one: the panel opens and its tab takes the focus. */
import type { PanelId } from '../panelIds';
import { useStudio } from '../store';

/** Opens `panel`; focus moves to its tab (PanelTabs.tsx ids them "tab-<id>"), so keyboard users continue from there. */
export function goToPanel(panel: PanelId): void {
  useStudio.getState().setActivePanel(panel);
  document.getElementById(`tab-${panel}`)?.focus();
}
