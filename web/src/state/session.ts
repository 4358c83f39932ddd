// The auth session: who is signed in (boot, login, register, signed out).
// The session cookie is the truth (GET /api/me on load); the token from login/register is
// kept to authenticate the socket too. Logging out is the session controller's (it also
// tears the connection down).
import { createStore } from 'zustand/vanilla';
import { ApiError, rest, setBearerToken } from '../api/rest';
import type { User } from '../api/types';

export type SessionStatus = 'loading' | 'anonymous' | 'authenticated';

export interface SessionState {
  status: SessionStatus;
  user: User | null;
  token: string | null;
}

const TOKEN_KEY = 'natter.token';

function readToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function writeToken(t: string | null): void {
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* not persisted */
  }
}

export const sessionStore = createStore<SessionState>(() => ({ status: 'loading', user: null, token: null }));

export async function bootSession(): Promise<void> {
  const token = readToken();
  setBearerToken(token);
  try {
    const { user } = await rest.me();
    sessionStore.setState({ status: 'authenticated', user, token });
  } catch (e) {
    if (token && e instanceof ApiError && e.status === 401) {
      writeToken(null);
      setBearerToken(null);
    }
    sessionStore.setState({ status: 'anonymous', user: null, token: null });
  }
}

function signedIn(user: User, token: string): void {
  writeToken(token);
  setBearerToken(token);
  sessionStore.setState({ status: 'authenticated', user, token });
}

export async function login(loginName: string, password: string): Promise<void> {
  const { user, token } = await rest.login({ login: loginName, password });
  signedIn(user, token);
}

export async function register(p: { email: string; username: string; name: string; password: string }): Promise<void> {
  const { user, token } = await rest.register(p);
  signedIn(user, token);
}

export function signedOut(): void {
  writeToken(null);
  setBearerToken(null);
  sessionStore.setState({ status: 'anonymous', user: null, token: null });
}
