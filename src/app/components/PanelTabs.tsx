/**
 * The panel layout as WAI-ARIA tabs: arrow keys, Home and End move between tabs; inactive panels
 * stay mounted (hidden) so their state survives switching.
 */
import { useRef, type KeyboardEvent } from 'react';
import { goToPanel } from '../actions/navigation';
import { PANELS, type PanelSpec } from '../panels/registry';
import { useStudio } from '../store';

const KEY_OFFSETS: Record<string, (index: number, count: number) => number> = {
  ArrowRight: (i, n) => (i + 1) % n,
  ArrowLeft: (i, n) => (i - 1 + n) % n,
  Home: () => 0,
  End: (_i, n) => n - 1,
};

export function PanelTabs() {
  const active = useStudio((s) => s.activePanel);
  const setActive = useStudio((s) => s.setActivePanel);
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);

  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const move = KEY_OFFSETS[event.key];
    if (!move) return;
    event.preventDefault();
    const next = move(index, PANELS.length);
    setActive(PANELS[next].id);
    tabs.current[next]?.focus();
  };

  return (
    <>
      <div role="tablist" aria-label="Studio panels" className="tabs">
        {PANELS.map((panel, index) => (
          <button
            key={panel.id}
            ref={(el) => {
              tabs.current[index] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${panel.id}`}
            aria-controls={`panel-${panel.id}`}
            aria-selected={panel.id === active}
            tabIndex={panel.id === active ? 0 : -1}
            onClick={() => setActive(panel.id)}
            onKeyDown={(e) => onKeyDown(e, index)}
          >
            {panel.label}
          </button>
        ))}
      </div>
      {PANELS.map(({ id, label, Component, next }) => (
        <section
          key={id}
          role="tabpanel"
          id={`panel-${id}`}
          aria-labelledby={`tab-${id}`}
          hidden={id !== active}
          tabIndex={0}
          className="panel"
        >
          <h2 className="visually-hidden">{label}</h2>
          <Component />
          <NextStep {...next} />
        </section>
      ))}
    </>
  );
}

/** The foot of every panel: what comes next, with a button to that panel. */
function NextStep({ panel, text }: PanelSpec['next']) {
  const label = PANELS.find((p) => p.id === panel)?.label;
  return (
    <nav className="next-step" aria-label="Next step" data-testid="next-step">
      <p>
        <strong>Next:</strong> {text}{' '}
        <button type="button" onClick={() => goToPanel(panel)}>
          Go to {label}
        </button>
      </p>
    </nav>
  );
}
