// Apply the saved theme before first paint (no flash). Kept as a file so a strict CSP works.
try {
  var t = localStorage.getItem('natter.theme');
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
} catch (e) {}
