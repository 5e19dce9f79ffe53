// Dollar amounts as people read them, from the exact dollar strings the API sends.

import { t } from './i18n.js';

/** "$1.23" from an exact dollar string such as "1.2349" (rounded to the cent, no floats). */
export function moneyText(dollars) {
  const [whole, fraction = ''] = String(dollars).split('.');
  const micros = BigInt(whole || '0') * 1000000n + BigInt(fraction.padEnd(6, '0').slice(0, 6));
  const cents = (micros + 5000n) / 10000n;
  return `$${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
}

/** "$1.23 this month of a $10.00 budget, announcements held" */
export function costText(costs) {
  const cost = moneyText(costs.this_month_total);
  const held = Boolean(costs.announcements_held);
  if (costs.monthly_budget) {
    const budget = moneyText(costs.monthly_budget);
    return t(held ? 'app-cost-budget-held' : 'app-cost-budget', { cost, budget });
  }
  return t(held ? 'app-cost-held' : 'app-cost', { cost });
}
