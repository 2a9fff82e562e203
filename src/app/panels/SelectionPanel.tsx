import { PanelIntro } from './PanelIntro';

export function SelectionPanel() {
  return (
    <PanelIntro planned>
      Choose which attention heads and feed-forward channels S²FT trains, by a strategy (random, weight,
      activation, product, gradient) or from a selection file, and see the choice layer by layer.
    </PanelIntro>
  );
}
