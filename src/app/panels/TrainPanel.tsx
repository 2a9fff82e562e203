import { PanelIntro } from './PanelIntro';
import { SmokeTest } from './SmokeTest';

export function TrainPanel() {
  return (
    <>
      <PanelIntro planned>
        Fine-tune with S²FT, LoRA or full fine-tuning in the training worker, and watch loss, learning
        rate, throughput and memory as it runs.
      </PanelIntro>
      <SmokeTest />
    </>
  );
}
