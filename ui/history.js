// A new member's catch-up page: the group's latest messages, read-only. The link opens once, so
// the page says so and keeps nothing.

import { api, errorText } from './app/api.js';
import { h, when } from './app/dom.js';

const main = document.getElementById('main');
const [, , id, code] = location.pathname.split('/');

async function show() {
  try {
    const page = await api(`neighborhoods/${encodeURIComponent(id ?? '')}/catch-up/${encodeURIComponent(code ?? '')}`);
    document.title = `Catch up on ${page.neighborhood}`;
    main.replaceChildren(
      h('h1', {}, `Catch up on ${page.neighborhood}`),
      h('p', { class: 'muted' }, 'The latest messages of the group, oldest first. This link works once: keep this page open while you read.'),
      h('ol', { class: 'messages', 'aria-label': 'Latest messages, oldest first' }, page.messages.map((message) => h('li', {},
        h('p', { class: 'body' }, h('strong', {}, `${message.sender_name}: `), message.body),
        h('p', { class: 'meta' }, h('time', { datetime: message.at }, when(message.at)))))),
      h('p', {}, 'New messages arrive by text, like the rest of the group.'),
    );
  } catch (error) {
    document.title = 'Link no longer opens';
    main.replaceChildren(h('h1', {}, 'This link no longer opens'), h('div', { class: 'alert', role: 'alert' }, h('p', {}, errorText(error))));
  } finally {
    main.removeAttribute('aria-busy');
    main.focus();
  }
}

show();
