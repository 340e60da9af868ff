import { test, expect, openHydrated } from './helpers';

// Admins manage users: each action's result is shown once, in the row it was taken on, and
// replaces the one before; field errors stand beside their fields; Disable is confirmed and
// undone by Enable.
test.use({ user: 'ada' });

test('one result per action, beside it, and a reversible disable', async ({ page }) => {
  const name = `u${Date.now().toString(36)}`;
  await openHydrated(page, '/users');
  const add = page.getByTestId('add-user-form');
  await add.getByLabel('Name', { exact: true }).fill(name);
  await add.getByLabel('Password').fill('short');
  await add.getByRole('button', { name: 'Add user' }).click();
  await expect(add.locator('[data-field="password"]')).toHaveText('is too short (at least 8 characters)');
  await expect(page.getByTestId('user-add-error')).toHaveText('Not saved: see the marked fields.');
  await add.getByLabel('Password').fill('a long enough password');
  await add.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByTestId('user-add-ok')).toHaveText(`Added ${name} as Dispatcher`);
  // The form is empty again, the password too.
  await expect(add.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(add.getByLabel('Password')).toHaveValue('');

  const row = page.locator(`tr[data-user="${name}"]`);
  await row.getByLabel('New password').fill('short');
  await row.getByRole('button', { name: 'Reset password' }).click();
  await expect(row.locator('[data-field="new_password"]')).toHaveText('is too short (at least 8 characters)');
  await expect(row.getByTestId('user-action-error')).toHaveText('Not saved: see the marked fields.');

  // The next action's result replaces it: nothing of the old error is left.
  await row.getByRole('button', { name: 'Make admin' }).click();
  await expect(row.getByTestId('user-action-ok')).toHaveText(`${name} is now Admin`);
  await expect(page.getByTestId('user-action-error')).toHaveCount(0);
  await expect(page.locator('[data-field="new_password"]')).toHaveCount(0);
  await expect(row.getByTestId('role')).toHaveText('Admin');

  // Disable asks first, and says how to undo it.
  await row.getByText('Disable…').click();
  await expect(row.getByTestId('disable')).toContainText('Enable undoes it');
  await row.getByRole('button', { name: `Confirm: disable ${name}` }).click();
  await expect(row.getByTestId('user-state')).toHaveText('disabled');
  await expect(row.getByTestId('user-action-ok')).toHaveText(`${name} is disabled and signed out`);
  await row.getByRole('button', { name: 'Enable' }).click();
  await expect(row.getByTestId('user-state')).toHaveText('active');
  await expect(row.getByTestId('user-action-ok')).toHaveText(`${name} may sign in again`);
});

test('the account form asks for the new password twice', async ({ page }) => {
  await openHydrated(page, '/account');
  const form = page.getByTestId('password-form');
  await form.getByLabel('Current password').fill('ada-e2e-password');
  await form.getByLabel('New password', { exact: true }).fill('another long password');
  await form.getByLabel('Repeat new password').fill('another long passwort');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.locator('[data-field="repeat_password"]')).toHaveText('is not the same as the new password');
  await expect(form.getByLabel('Repeat new password')).toBeFocused();
});
