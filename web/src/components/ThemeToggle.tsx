// The light/dark toggle button.
import { effectiveTheme, toggleTheme } from '../state/theme';
import { useTheme } from '../state';
import { Icon } from './Icon';

export function ThemeToggle() {
  const choice = useTheme();
  const shown = effectiveTheme(choice);
  const next = shown === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      className="icon-button"
      onClick={toggleTheme}
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      data-testid="theme-toggle"
    >
      <Icon name={shown === 'dark' ? 'sun' : 'moon'} />
    </button>
  );
}
