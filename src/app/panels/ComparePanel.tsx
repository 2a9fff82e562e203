import { PanelIntro } from './PanelIntro';

export function ComparePanel() {
  return (
    <PanelIntro planned>
      Compare S²FT with LoRA and full fine-tuning on the same model and data: loss curves, trainable
      parameters, memory, speed and sample generations side by side.
    </PanelIntro>
  );
}
