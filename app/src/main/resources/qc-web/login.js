// Login page: posts the credentials, then goes to the queue list.
'use strict';

(() => {
  const form = document.getElementById('login-form');
  const analyst = document.getElementById('analyst');
  const password = document.getElementById('password');
  const button = document.getElementById('login');
  const errorBox = document.getElementById('login-error');

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  // The form's submit event covers both the button and Enter in either input.
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (button.disabled) return; // a login is already in flight
    const name = analyst.value.trim();
    if (!name || !password.value) {
      showError('Enter your analyst name and password.');
      (name ? password : analyst).focus();
      return;
    }
    errorBox.hidden = true;
    button.disabled = true;
    try {
      const result = await QC.api('POST', '/api/login',
        { analyst: name, password: password.value }, { allow401: true });
      if (result.ok) {
        location.assign('/index.html');
        return; // keep the button disabled while the next page loads
      }
      const serverText = result.data && typeof result.data.error === 'string' ? result.data.error : '';
      if (result.status === 401) showError(serverText || 'Wrong analyst name or password.');
      else showError(QC.errorMessage(result, 'Sign-in failed'));
      password.value = '';
      password.focus();
    } catch (_) {
      showError('Sign-in failed: the server could not be reached.');
    }
    button.disabled = false;
  });
})();
