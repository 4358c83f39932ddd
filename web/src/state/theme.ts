// Theme: follows the system unless the user picked one (persisted in localStorage).
import { createStore } from 'zustand/vanilla';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'natter.theme';

function read(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

function systemDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

export const themeStore = createStore<{ choice: ThemeChoice }>(() => ({ choice: read() }));

export function effectiveTheme(choice: ThemeChoice): 'light' | 'dark' {
  if (choice === 'system') return systemDark() ? 'dark' : 'light';
  return choice;
}

export function setTheme(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    /* private mode: not persisted */
  }
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  themeStore.setState({ choice });
}

/** Flips between light and dark, starting from what is shown now. */
export function toggleTheme(): void {
  setTheme(effectiveTheme(themeStore.getState().choice) === 'dark' ? 'light' : 'dark');
}
