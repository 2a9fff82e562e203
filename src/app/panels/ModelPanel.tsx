import { PanelIntro } from './PanelIntro';

export function ModelPanel() {
  return (
    <PanelIntro planned>
      Pick the base model: the embedded default, or a HuggingFace checkpoint folder from your own disk
      (config.json, model.safetensors, tokenizer.json). Files are read locally and never uploaded.
    </PanelIntro>
  );
}
