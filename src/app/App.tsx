import { Header } from './components/Header';
import { PanelTabs } from './components/PanelTabs';
import { ResumeBanner } from './components/ResumeBanner';
import { useWorker } from './useWorker';

export function App() {
  useWorker();
  return (
    <div className="studio">
      <Header />
      <main>
        <ResumeBanner />
        <PanelTabs />
      </main>
    </div>
  );
}
