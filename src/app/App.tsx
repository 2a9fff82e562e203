import { Header } from './components/Header';
import { PanelTabs } from './components/PanelTabs';
import { useWorker } from './useWorker';

export function App() {
  useWorker();
  return (
    <div className="studio">
      <Header />
      <main>
        <PanelTabs />
      </main>
    </div>
  );
}
