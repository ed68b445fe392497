import { html, type Html } from '../html.ts'
import { csrfField, layout, type PageContext } from '../layout.ts'

/** The log-in form: username, password and the authenticator's code, in one step. */
export function loginPage(c: PageContext, problem?: { code: string; text: string }, next = '/overview'): Html {
  return layout(c, c.t('login'), html`
<form class="login" method="post" action="/login">
${problem === undefined ? '' : html`<div class="notice error" id="problem" data-code="${problem.code}">${problem.text} <span class="mono">${problem.code}</span></div>`}
${csrfField(c)}<input type="hidden" name="next" value="${next}">
<label for="username">${c.t('username')}</label><input id="username" name="username" type="text" autocomplete="username" required>
<label for="password">${c.t('password')}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="code">${c.t('totpCode')}</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
<button type="submit" id="login">${c.t('login')}</button>
</form>`)
}

/** An error page: what went wrong, its stable code, and a way back. */
export function errorPage(c: PageContext, title: string, text: string, code: string): Html {
  return layout(c, title, html`<div class="notice error" id="problem" data-code="${code}">${text}</div>
<p>${c.t('errorCode')}: <span class="mono">${code}</span></p><p><a href="/overview">${c.t('back')}</a></p>`)
}
