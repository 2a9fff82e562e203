import { PanelIntro } from './PanelIntro';

export function DataPanel() {
  return (
    <PanelIntro planned>
      Pick training data: a bundled dataset, or your own .txt or .jsonl file (plain text, instruction/output,
      prompt/completion, chat messages or pre-tokenized ids).
    </PanelIntro>
  );
}
