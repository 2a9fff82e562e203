import { PanelIntro } from './PanelIntro';

export function AdaptersPanel() {
  return (
    <PanelIntro planned>
      Download what training produced as an S²FT adapter (.safetensors) or a PEFT LoRA, load adapters
      back, switch between them, and fuse several into the base model.
    </PanelIntro>
  );
}
