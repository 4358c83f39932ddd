// The sign-in and registration page, with field-level server errors.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/rest';
import { login, register } from '../state/session';
import { ThemeToggle } from './ThemeToggle';

type Mode = 'login' | 'register';
type Field = 'login' | 'email' | 'username' | 'name' | 'password';
type Errors = Partial<Record<Field | 'form', string>>;

const USERNAME = /^[a-z0-9_.-]{3,32}$/i;

/** Which field a server error message names ("username is taken" → username). */
export function fieldOf(message: string, fields: Field[]): Field | null {
  const m = message.toLowerCase();
  const order: Field[] = ['username', 'email', 'password', 'login', 'name'];
  for (const f of order) {
    if (fields.includes(f) && new RegExp(`\\b${f}\\b`).test(m)) return f;
  }
  return null;
}

export function AuthPage() {
  const [mode, setMode] = useState<Mode>('login');
  const [values, setValues] = useState({ login: '', email: '', username: '', name: '', password: '' });
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);

  const fields: Field[] = mode === 'login' ? ['login', 'password'] : ['email', 'username', 'name', 'password'];

  function validate(): Errors {
    const e: Errors = {};
    if (mode === 'login') {
      if (!values.login.trim()) e.login = 'Enter your email or username.';
      if (!values.password) e.password = 'Enter your password.';
    } else {
      if (!/^\S+@\S+\.\S+$/.test(values.email.trim())) e.email = 'Enter a valid email address.';
      if (!USERNAME.test(values.username.trim()))
        e.username = 'Use 3–32 characters: letters, digits, _ . or -.';
      if (!values.name.trim()) e.name = 'Enter the name people will see.';
      if (values.password.length < 8) e.password = 'Use at least 8 characters.';
    }
    return e;
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const e = validate();
    setErrors(e);
    if (Object.keys(e).length) return;
    setBusy(true);
    try {
      if (mode === 'login') await login(values.login.trim(), values.password);
      else
        await register({
          email: values.email.trim(),
          username: values.username.trim(),
          name: values.name.trim(),
          password: values.password,
        });
    } catch (err) {
      const msg = err instanceof Error ? err.message : 'Something went wrong.';
      const f = err instanceof ApiError && (err.code === 'invalid' || err.code === 'conflict') ? fieldOf(msg, fields) : null;
      const text = msg.charAt(0).toUpperCase() + msg.slice(1);
      setErrors(f ? { [f]: text } : { form: err instanceof ApiError && err.status === 401 ? 'Wrong email, username or password.' : text });
    } finally {
      setBusy(false);
    }
  }

  function field(name: Field, label: string, type = 'text', autoComplete?: string, hint?: string) {
    const err = errors[name];
    const id = `auth-${name}`;
    return (
      <div className={err ? 'field field-invalid' : 'field'}>
        <label htmlFor={id}>{label}</label>
        <input
          id={id}
          name={name}
          type={type}
          autoComplete={autoComplete}
          value={values[name]}
          aria-invalid={err ? true : undefined}
          aria-describedby={err ? `${id}-error` : hint ? `${id}-hint` : undefined}
          onChange={(e) => {
            setValues({ ...values, [name]: e.target.value });
            if (errors[name]) setErrors({ ...errors, [name]: undefined });
          }}
        />
        {err ? (
          <p className="field-error" id={`${id}-error`} role="alert">
            {err}
          </p>
        ) : hint ? (
          <p className="field-hint" id={`${id}-hint`}>
            {hint}
          </p>
        ) : null}
      </div>
    );
  }

  function switchTo(m: Mode) {
    setMode(m);
    setErrors({});
    switched.current = true;
  }

  // The link that switched the form is gone with the old form: focus the new form's
  // first field instead of leaving focus on the page.
  const form = useRef<HTMLFormElement>(null);
  const switched = useRef(false);
  useEffect(() => {
    if (!switched.current) return;
    switched.current = false;
    form.current?.querySelector<HTMLInputElement>('input')?.focus();
  }, [mode]);

  return (
    <div className="auth-page">
      <div className="auth-corner">
        <ThemeToggle />
      </div>
      <main className="auth-card">
        <div className="auth-brand">
          <span className="brand-mark" aria-hidden="true" />
          <span className="brand-name">Natter</span>
        </div>
        <h1>{mode === 'login' ? 'Welcome back' : 'Create your account'}</h1>
        <p className="auth-sub">
          {mode === 'login' ? 'Sign in to pick up where your team left off.' : 'It takes less than a minute.'}
        </p>
        <form ref={form} onSubmit={submit} noValidate aria-label={mode === 'login' ? 'Sign in' : 'Create account'}>
          {mode === 'login' ? (
            <>
              {field('login', 'Email or username', 'text', 'username')}
              {field('password', 'Password', 'password', 'current-password')}
            </>
          ) : (
            <>
              {field('email', 'Email', 'email', 'email')}
              {field('username', 'Username', 'text', 'username', '3–32 characters: letters, digits, _ . -')}
              {field('name', 'Display name', 'text', 'name')}
              {field('password', 'Password', 'password', 'new-password', 'At least 8 characters')}
            </>
          )}
          {errors.form && (
            <p className="form-error" role="alert">
              {errors.form}
            </p>
          )}
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? 'Please wait…' : mode === 'login' ? 'Sign in' : 'Create account'}
          </button>
        </form>
        <p className="auth-switch">
          {mode === 'login' ? (
            <>
              New to Natter?{' '}
              <button type="button" className="link-button" onClick={() => switchTo('register')}>
                Create an account
              </button>
            </>
          ) : (
            <>
              Already have an account?{' '}
              <button type="button" className="link-button" onClick={() => switchTo('login')}>
                Sign in
              </button>
            </>
          )}
        </p>
      </main>
    </div>
  );
}
