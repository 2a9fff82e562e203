import { BackendBadge } from './BackendBadge';
import { SettingsMenu } from './SettingsMenu';

export function Header() {
  return (
    <header className="studio-header">
      <div>
        <h1>S²FT Studio</h1>
        <p className="tagline">
          Structured sparse fine-tuning of small language models, in your browser. Nothing leaves this machine.
        </p>
        <SettingsMenu />
      </div>
      <BackendBadge />
    </header>
  );
}
