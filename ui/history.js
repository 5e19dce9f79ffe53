// A new member's catch-up page: the group's latest messages, read-only. The link opens once, so
// the page says so and keeps nothing. Its words are in the language of the text that linked to
// it (`?lang=`), else the browser's. Pictures come at addresses the page was given, good for an
// hour.

import { api, errorText } from './app/api.js';
import { h, when } from './app/dom.js';
import { t, useLanguage, wanted } from './app/i18n.js';

const main = document.getElementById('main');
const [, , id, code] = location.pathname.split('/');

async function show() {
  await useLanguage(wanted());
  try {
    const page = await api(`neighborhoods/${encodeURIComponent(id ?? '')}/catch-up/${encodeURIComponent(code ?? '')}`);
    const title = t('page-history-title', { neighborhood: page.neighborhood });
    document.title = title;
    main.replaceChildren(
      h('h1', {}, title),
      h('p', { class: 'muted' }, t('page-history-intro')),
      h('ol', { class: 'messages', 'aria-label': t('page-history-list') }, page.messages.map((message) => h('li', {},
        h('p', { class: 'body' }, h('strong', {}, `${message.sender_name}: `), message.body),
        (message.media ?? []).length > 0 && h('p', { class: 'pictures' }, message.media.map((picture) =>
          h('img', { src: picture.url, loading: 'lazy', alt: t('page-history-photo', { name: message.sender_name }) }))),
        h('p', { class: 'meta' }, h('time', { datetime: message.at }, when(message.at)))))),
      h('p', {}, t('page-history-after')),
    );
  } catch (error) {
    document.title = t('page-history-gone-title');
    main.replaceChildren(h('h1', {}, t('page-history-gone')), h('div', { class: 'alert', role: 'alert' }, h('p', {}, errorText(error))));
  } finally {
    main.removeAttribute('aria-busy');
    main.focus();
  }
}

show();
