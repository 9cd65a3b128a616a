// Sign-in page: posts JSON (never a form post) and goes to the dashboard.
const form = document.getElementById('login');
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await fetch('/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: document.getElementById('user').value, password: document.getElementById('password').value }),
  });
  if (res.ok) location.href = '/';
  else document.getElementById('error').textContent = (await res.json()).error ?? 'sign-in failed';
});
