import { Header } from './components/Header';
import { PanelTabs } from './components/PanelTabs';
import { ResumeBanner } from './components/ResumeBanner';
import { WorkerNotice } from './components/WorkerNotice';
import { useWorker } from './useWorker';

export function App() {
  useWorker();
  return (
    <div className="studio">
      <Header />
      <main>
        <WorkerNotice />
        <ResumeBanner />
        <PanelTabs />
      </main>
    </div>
  );
}
